package store

import (
	"context"
	"fmt"
	"time"

	"github.com/psgate/psgate"
)

// Shell kinds and lease states.
const (
	KindWinRS = "winrs"
	KindPSRP  = "psrp"

	StateConnected    = "connected"
	StateDisconnected = "disconnected"
)

// Lease holds one shell slot: one per open or disconnected shell. It is
// live while ExpiresAt is in the future by the store's lease clock (see the
// package documentation); an expired lease no longer counts against any
// limit even before SweepExpired deletes it.
type Lease struct {
	// ShellID is the WinRS ShellId or the PSRP RunspacePool GUID.
	ShellID  string
	TenantID psgate.TenantID
	UserID   psgate.UserID
	// UPN is joined from the user record on reads.
	UPN string
	// NodeID is the incarnation (Node.ID) of the gateway hosting the
	// shell.
	NodeID string
	// Kind is KindWinRS or KindPSRP; State is StateConnected or
	// StateDisconnected.
	Kind       string
	State      string
	Name       string
	ClientAddr string
	UserAgent  string
	OpenedAt   time.Time
	// LastActiveAt is set by UpdateLease.
	LastActiveAt time.Time
	ExpiresAt    time.Time
}

// Node is one gateway process incarnation.
type Node struct {
	// ID is new at every process start (a UUID).
	ID string
	// Name is the public host:port; unique among live processes because a
	// listener cannot be bound twice.
	Name string
	// InternalURL is where peers forward requests for this node's shells.
	InternalURL string
	StartedAt   time.Time
	ExpiresAt   time.Time
	Draining    bool
}

// LeaseRequest asks for one shell slot.
type LeaseRequest struct {
	ShellID    string
	TenantID   psgate.TenantID
	UserID     psgate.UserID
	NodeID     string
	Kind       string
	Name       string
	ClientAddr string
	UserAgent  string
	// MaxPerUser and MaxPerTenant are the limits to enforce, already
	// resolved by the caller (user override, tenant policy). A value <= 0
	// means no limit at that scope.
	MaxPerUser   int
	MaxPerTenant int
	// TTL is how long the lease lives without renewal.
	TTL time.Duration
	// Now is the caller's clock reading. SQLite uses it (zero: its
	// Options.Now); PostgreSQL ignores it and uses the database clock.
	Now time.Time
}

// LeaseActivity is what UpdateLeases writes to one lease.
type LeaseActivity struct {
	ShellID    string
	State      string
	LastActive time.Time
}

// CheckActivities returns ErrInvalid if a state is neither connected nor
// disconnected.
func CheckActivities(acts []LeaseActivity) error {
	for _, a := range acts {
		if a.State != StateConnected && a.State != StateDisconnected {
			return fmt.Errorf("lease %s: state %q: %w", a.ShellID, a.State, ErrInvalid)
		}
	}
	return nil
}

// LeaseFilter narrows Leases. Zero fields do not filter.
type LeaseFilter struct {
	TenantID psgate.TenantID
	UserID   psgate.UserID
	NodeID   string
	// Now decides liveness for SQLite (zero: its Options.Now); PostgreSQL
	// uses the database clock.
	Now time.Time
}

// RenewResult reports the outcome of RenewNode.
type RenewResult struct {
	// Lost lists the shell IDs that were not renewed: expired, removed by
	// an administrator or never held by this node. Their shells must be
	// closed.
	Lost []string
	// NodeFound is false when the node row no longer exists: the
	// incarnation was declared dead, every shell must be closed and the
	// process must register again.
	NodeFound bool
	// Draining is the node's draining flag as stored.
	Draining bool
}

// Nodes registers gateway incarnations.
type Nodes interface {
	// RegisterNode stores a new incarnation, expiring ttl after its start
	// (a zero StartedAt is the store clock; PostgreSQL uses the database
	// clock). It deletes earlier incarnations with the same Name and
	// their leases, and returns those leases.
	RegisterNode(ctx context.Context, n Node, ttl time.Duration) ([]Lease, error)
	// RenewNode extends the node and those of its leases listed in live
	// that are still live to now+ttl.
	RenewNode(ctx context.Context, nodeID string, live []string, ttl time.Duration, now time.Time) (RenewResult, error)
	// Node returns the node with the given ID (live or not) or ErrNotFound.
	Node(ctx context.Context, nodeID string) (Node, error)
	// ListNodes returns the live nodes ordered by name.
	ListNodes(ctx context.Context, now time.Time) ([]Node, error)
	// SetDraining sets the node's draining flag.
	SetDraining(ctx context.Context, nodeID string, draining bool) error
	// DeregisterNode removes the node and its leases at a clean shutdown
	// and returns the removed leases.
	DeregisterNode(ctx context.Context, nodeID string) ([]Lease, error)
}

// Leases admits shells against the quotas.
type Leases interface {
	// AcquireLease takes a slot for the user and the tenant atomically,
	// records the creation, and returns the stored lease. When a limit is
	// reached it returns a *QuotaError (user scope checked first). A retry
	// with the same ShellID by the same node returns the existing lease;
	// a live lease with that ShellID on another node is ErrConflict.
	// ErrNotFound when the tenant or user does not exist.
	AcquireLease(ctx context.Context, r LeaseRequest) (Lease, error)
	// ReleaseLease frees the slot at once. nodeID "" removes the lease
	// whoever owns it (administrator removal); otherwise a lease of
	// another node is ErrNotFound.
	ReleaseLease(ctx context.Context, shellID, nodeID string) error
	// UpdateLease records the lease's state and last activity;
	// ErrNotFound when there is no such lease.
	UpdateLease(ctx context.Context, shellID, state string, lastActive time.Time) error
	// UpdateLeases records the state and last activity of many leases in
	// one transaction and returns how many it found (a shell closed
	// meanwhile has none, which is not an error). ErrInvalid, and nothing
	// written, when a state is neither connected nor disconnected.
	UpdateLeases(ctx context.Context, acts []LeaseActivity) (int, error)
	// Leases returns the live leases matching f ordered by OpenedAt and
	// ShellID.
	Leases(ctx context.Context, f LeaseFilter) ([]Lease, error)
	// Lease returns the live lease of a shell or ErrNotFound.
	Lease(ctx context.Context, shellID string) (Lease, error)
	// SweepExpired deletes up to limit expired leases (0: 1000) and
	// returns them; it also trims the creation log and removes dead nodes
	// that hold no leases. Concurrent sweeps report each lease once.
	SweepExpired(ctx context.Context, now time.Time, limit int) ([]Lease, error)
	// TransferLease moves a live lease of fromNode to toNode (a shell
	// handed over at a drain) and extends it to now+ttl, in one statement:
	// the slot is never free in between. The lease keeps everything else
	// (OpenedAt, state, name), and no creation is logged. A retry after a
	// transfer that committed returns the transferred lease. ErrNotFound
	// when the lease is not live on fromNode (or toNode) or toNode is not
	// a live node. now follows the lease clock rules.
	TransferLease(ctx context.Context, shellID, fromNode, toNode string, ttl time.Duration, now time.Time) (Lease, error)
	// CountCreations counts the leases acquired for the user (userID 0:
	// the whole tenant) within window before now, for the creation-rate
	// limit. now follows the lease clock rules.
	CountCreations(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, window time.Duration, now time.Time) (int, error)
}
