package admission

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// Store is what an Admitter needs from the store (store.Store has it all).
type Store interface {
	Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error)
	User(ctx context.Context, id psgate.UserID) (store.User, error)
	RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error)
	ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error)
	CountCreations(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, window time.Duration, now time.Time) (int, error)
	AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error)
	TransferLease(ctx context.Context, shellID, fromNode, toNode string, ttl time.Duration, now time.Time) (store.Lease, error)
	ReleaseLease(ctx context.Context, shellID, nodeID string) error
	RegisterNode(ctx context.Context, n store.Node, ttl time.Duration) ([]store.Lease, error)
	RenewNode(ctx context.Context, nodeID string, live []string, ttl time.Duration, now time.Time) (store.RenewResult, error)
	DeregisterNode(ctx context.Context, nodeID string) ([]store.Lease, error)
	SweepExpired(ctx context.Context, now time.Time, limit int) ([]store.Lease, error)
	AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error)
	CompleteAudit(ctx context.Context, id int64, outcome, code string, dur time.Duration) error
	UpdateLeases(ctx context.Context, acts []store.LeaseActivity) (int, error)
}

// Config configures an Admitter. Zero values are documented per field.
type Config struct {
	// Store holds tenants, users, roles, leases and the audit log.
	// Required.
	Store Store
	// NodeID identifies this process incarnation in the store; empty
	// generates a random UUID. Use a new one at every start.
	NodeID string
	// NodeName is the node's public host:port. A restarted process with
	// the same name reclaims its previous incarnation's slots at once.
	// Empty means NodeID (slots of a previous run then expire by TTL).
	NodeName string
	// InternalURL is where peers forward requests for this node's shells.
	InternalURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Pin marks the span of one command for the store's directory cache
	// (cache.Store.Pin): the per-command re-check and the command's own
	// reads then validate the cache once. Nil means no cache.
	Pin func(context.Context) context.Context
	// LeaseTTL is how long a lease lives without renewal; 0 means 45s.
	LeaseTTL time.Duration
	// RenewEvery is the renewal period; 0 means 10s.
	RenewEvery time.Duration
	// Margin is how long before the lease TTL runs out, counted from the
	// last successful renewal, the node fails closed; 0 means 5s.
	Margin time.Duration
	// SweepEvery is how often expired leases are deleted and audited; 0
	// means 15s.
	SweepEvery time.Duration
	// RenewTimeout bounds one renewal; 0 means 5s.
	RenewTimeout time.Duration
	// Logger receives the admitter's logs; nil discards them.
	Logger *slog.Logger
	// Observer is told of every decision and lease renewal, for metrics.
	// Nil observes nothing.
	Observer Observer
}

// Defaults, from the lease design (research/cluster.md §1.5).
const (
	defaultLeaseTTL     = 45 * time.Second
	defaultRenewEvery   = 10 * time.Second
	defaultMargin       = 5 * time.Second
	defaultSweepEvery   = 15 * time.Second
	defaultRenewTimeout = 5 * time.Second
	// creationWindow is the window of MaxShellCreationsPerMinute.
	creationWindow = time.Minute
)

// Admitter decides shell creation for the gateway. It is safe for
// concurrent use.
type Admitter struct {
	cfg Config
	st  Store
	log *slog.Logger
	now func() time.Time
	pin func(context.Context) context.Context

	// gate orders lease acquisition against (re-)registration, which
	// deletes this incarnation's leases: Admit holds it shared while it
	// takes a lease, registering holds it exclusively.
	gate sync.RWMutex

	mu     sync.Mutex
	keep   keeperState
	shells map[string]shellRecord // admitted and not yet released
	// moving holds the shells being handed over to a peer
	// (BeginHandOver): not renewed, never reported lost.
	moving map[string]bool
	// reported is the activity last written to each lease.
	reported map[string]psgate.ShellActivity
}

// shellRecord is what Release and AuditCommand need to know of a shell.
type shellRecord struct {
	owner      psgate.Principal
	clientAddr string
}

// New returns an Admitter. Call Register (or Tick) before the gateway
// serves: until the node is registered, Admit refuses.
func New(cfg Config) (*Admitter, error) {
	if cfg.Store == nil {
		return nil, errors.New("admission: Config.Store is required")
	}
	if cfg.NodeID == "" {
		cfg.NodeID = newUUID()
	}
	if cfg.NodeName == "" {
		cfg.NodeName = cfg.NodeID
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Pin == nil {
		cfg.Pin = func(ctx context.Context) context.Context { return ctx }
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = defaultLeaseTTL
	}
	if cfg.RenewEvery == 0 {
		cfg.RenewEvery = defaultRenewEvery
	}
	if cfg.Margin == 0 {
		cfg.Margin = defaultMargin
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = defaultSweepEvery
	}
	if cfg.RenewTimeout == 0 {
		cfg.RenewTimeout = defaultRenewTimeout
	}
	if cfg.LeaseTTL < 0 || cfg.RenewEvery < 0 || cfg.Margin < 0 || cfg.SweepEvery < 0 || cfg.RenewTimeout < 0 {
		return nil, errors.New("admission: negative durations in Config")
	}
	if cfg.RenewEvery >= cfg.LeaseTTL-cfg.Margin {
		return nil, fmt.Errorf("admission: RenewEvery %v must be shorter than LeaseTTL %v less Margin %v",
			cfg.RenewEvery, cfg.LeaseTTL, cfg.Margin)
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Admitter{
		cfg:    cfg,
		st:     cfg.Store,
		log:    log.With(logkey.Node, cfg.NodeID),
		now:    cfg.Now,
		pin:    cfg.Pin,
		shells: map[string]shellRecord{},
	}, nil
}

// NodeID returns the node incarnation the Admitter's leases belong to.
func (a *Admitter) NodeID() string { return a.cfg.NodeID }

// Admit decides whether req's principal may open the shell. In order: the
// tenant policy, at least one role, the creation rate, then the lease for
// user and tenant in one atomic step. The decision is audited before Admit
// returns; a decision that cannot be audited is a refusal.
func (a *Admitter) Admit(ctx context.Context, req psgate.ShellRequest) (psgate.Grant, engine.Authorizer, error) {
	now := a.now()
	p := req.Principal
	rec := store.AuditRecord{
		Time: now, TenantID: p.TenantID, UserID: p.UserID, UPN: p.UPN,
		ShellID: req.ShellID, ClientAddr: req.ClientAddr,
	}
	// The decision's duration is measured on the real clock: cfg.Now may
	// be a test's fake one.
	began := time.Now()
	grant, auth, detail, err := a.decide(ctx, req, now)
	if err != nil {
		err = a.refuse(ctx, rec, err, detail)
		a.cfg.Observer.Admission(req.Kind, psgate.CodeOf(err), time.Since(began))
		return psgate.Grant{}, nil, err
	}
	rec.Action, rec.Outcome = store.ActionSessionOpen, store.OutcomeOK
	rec.Detail = fmt.Sprintf("%s shell, user agent %q, roles %v", req.Kind, req.UserAgent, grant.Roles)
	if _, err := a.st.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		// Not on the record, so not admitted.
		if rerr := a.st.ReleaseLease(context.WithoutCancel(ctx), req.ShellID, a.cfg.NodeID); rerr != nil {
			a.log.Warn("releasing an unaudited lease failed; it expires by TTL", logkey.ShellID, req.ShellID, logkey.Err, rerr)
		}
		a.log.Error("audit of session open failed; shell refused", logkey.ShellID, req.ShellID, logkey.Err, err)
		a.cfg.Observer.Admission(req.Kind, psgate.CodeStoreDown, time.Since(began))
		return psgate.Grant{}, nil, psgate.Wrap(psgate.CodeStoreDown, nil, fmt.Errorf("admission: audit session open: %w", err))
	}
	a.mu.Lock()
	a.shells[req.ShellID] = shellRecord{owner: p, clientAddr: req.ClientAddr}
	a.mu.Unlock()
	a.cfg.Observer.Admission(req.Kind, "", time.Since(began))
	return grant, auth, nil
}

// decide runs the checks and takes the lease. On refusal it returns the
// user-facing error and a detail for the audit record.
func (a *Admitter) decide(ctx context.Context, req psgate.ShellRequest, now time.Time) (psgate.Grant, *liveAuthorizer, string, error) {
	// One validation of the directory cache for the tenant, user and
	// roles read below.
	ctx = a.pin(ctx)
	p := req.Principal
	if err := a.ready(now); err != nil {
		return psgate.Grant{}, nil, "node not admitting", err
	}
	tenant, user, roles, detail, err := a.rights(ctx, p)
	if err != nil {
		return psgate.Grant{}, nil, detail, err
	}
	pol, upn := tenant.Policy, user.UPN
	if err := a.checkRate(ctx, p, pol.MaxShellCreationsPerMinute, now); err != nil {
		return psgate.Grant{}, nil, "creation rate", err
	}
	maxUser := pol.MaxShellsPerUser
	if user.MaxShells != 0 {
		maxUser = user.MaxShells
	}
	if err := a.acquire(ctx, upn, store.LeaseRequest{
		ShellID: req.ShellID, TenantID: p.TenantID, UserID: p.UserID, NodeID: a.cfg.NodeID,
		Kind: string(req.Kind), Name: req.Name, ClientAddr: req.ClientAddr, UserAgent: req.UserAgent,
		MaxPerUser: maxUser, MaxPerTenant: pol.MaxShellsPerTenant, TTL: a.cfg.LeaseTTL, Now: now,
	}); err != nil {
		var qe *store.QuotaError
		if errors.As(err, &qe) {
			return psgate.Grant{}, nil, fmt.Sprintf("%s quota: %d of %d", qe.Scope, qe.Count, qe.Limit),
				quotaRefusal(qe, p.UserID, isTenantAdmin(roles), pol.SessionLifetime, now)
		}
		return psgate.Grant{}, nil, "lease not acquired", err
	}
	auth := a.newLiveAuthorizer(roles, req)
	return psgate.Grant{
		Lifetime:    lifetime(pol.SessionLifetime, p.ExpiresAt, now),
		IdleTimeout: pol.IdleTimeout,
		Roles:       auth.Roles(),
	}, auth, "", nil
}

// rights reads what a principal needs to hold a shell: a tenant that
// allows remote PowerShell, an enabled account in that tenant, and at
// least one role. On refusal it returns the user-facing error and a detail
// for the audit record.
func (a *Admitter) rights(ctx context.Context, p psgate.Principal) (store.Tenant, store.User, []store.Role, string, error) {
	tenant, err := a.st.Tenant(ctx, p.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, store.User{}, nil, "tenant not found", psgate.Wrap(psgate.CodeTenantNotFound, psgate.Args{"tenant": p.Tenant}, err)
	}
	if err != nil {
		return store.Tenant{}, store.User{}, nil, "store error", storeDown("read tenant", err)
	}
	if !tenant.Policy.EnableRemotePowerShellAccess {
		return store.Tenant{}, store.User{}, nil, "tenant policy: EnableRemotePowerShellAccess is False",
			psgate.E(psgate.CodeTenantAccessDisabled, psgate.Args{"tenant": tenant.Name})
	}
	user, err := a.st.User(ctx, p.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, store.User{}, nil, "store error", storeDown("read user", err)
	}
	upn := p.UPN
	if err == nil {
		upn = user.UPN
	}
	if err != nil || user.TenantID != p.TenantID {
		return store.Tenant{}, store.User{}, nil, "user not in tenant", psgate.E(psgate.CodeNoAdminRole, psgate.Args{"upn": upn})
	}
	if !user.Enabled {
		return store.Tenant{}, store.User{}, nil, "account disabled", psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": upn})
	}
	roles, err := a.st.RolesOf(ctx, p.TenantID, p.UserID)
	if err != nil {
		return store.Tenant{}, store.User{}, nil, "store error", storeDown("read roles", err)
	}
	if len(roles) == 0 {
		return store.Tenant{}, store.User{}, nil, "no role", psgate.E(psgate.CodeNoAdminRole, psgate.Args{"upn": upn})
	}
	return tenant, user, roles, "", nil
}

// acquire takes the lease while no registration runs, so that a
// re-registration (which drops this incarnation's leases) never deletes a
// lease just granted.
func (a *Admitter) acquire(ctx context.Context, upn string, r store.LeaseRequest) error {
	a.gate.RLock()
	defer a.gate.RUnlock()
	if err := a.ready(r.Now); err != nil {
		return err
	}
	_, err := a.st.AcquireLease(ctx, r)
	var qe *store.QuotaError
	switch {
	case err == nil, errors.As(err, &qe):
		return err
	case errors.Is(err, store.ErrConflict):
		return psgate.Wrap(psgate.CodeInvalidParameter, psgate.Args{"detail": "ShellId " + r.ShellID + " is already in use"}, err)
	case errors.Is(err, store.ErrNotFound):
		// The user left the tenant since it was read.
		return psgate.Wrap(psgate.CodeNoAdminRole, psgate.Args{"upn": upn}, err)
	}
	return storeDown("acquire lease", err)
}

// lifetime is the policy's session lifetime, shortened to the caller's
// credential expiry when that comes first (whole seconds).
func lifetime(policy time.Duration, expires, now time.Time) time.Duration {
	if expires.IsZero() {
		return policy
	}
	left := expires.Sub(now).Truncate(time.Second)
	if left > 0 && (policy <= 0 || left < policy) {
		return left
	}
	return policy
}

func isTenantAdmin(roles []store.Role) bool {
	for _, r := range roles {
		if r.BuiltIn && r.Name == store.RoleTenantAdministrator {
			return true
		}
	}
	return false
}

// storeDown is the fail-closed answer to a store failure.
func storeDown(op string, err error) *psgate.Error {
	return psgate.Wrap(psgate.CodeStoreDown, nil, fmt.Errorf("admission: %s: %w", op, err))
}

// refuse audits a refusal and returns err. A failed audit write is logged:
// the request is refused either way.
func (a *Admitter) refuse(ctx context.Context, rec store.AuditRecord, err error, detail string) error {
	rec.Action, rec.Outcome = store.ActionSessionRefused, store.OutcomeRefused
	rec.Code = string(psgate.CodeOf(err))
	rec.Detail = detail
	if ctx.Err() != nil {
		rec.Detail = "request cancelled: " + detail
	}
	if _, aerr := a.st.AppendAudit(context.WithoutCancel(ctx), rec); aerr != nil {
		a.log.Error("audit of refusal failed", logkey.ShellID, rec.ShellID, logkey.Code, rec.Code, logkey.Err, aerr)
	}
	if psgate.CodeOf(err) == psgate.CodeStoreDown {
		a.log.Warn("admission failed closed", logkey.ShellID, rec.ShellID, logkey.Err, err)
	}
	return err
}

// Release frees the shell's slot at once and audits the close with why
// ("reason: removed by admin@contoso.com"). A lease that cannot be deleted
// expires by itself within the lease TTL, because the gateway no longer
// lists the shell for renewal.
func (a *Admitter) Release(ctx context.Context, shellID string, why psgate.CloseReason) {
	ctx = context.WithoutCancel(ctx)
	a.mu.Lock()
	sh := a.shells[shellID]
	delete(a.shells, shellID)
	a.mu.Unlock()
	detail := "reason: " + why.String()
	switch err := a.st.ReleaseLease(ctx, shellID, a.cfg.NodeID); {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		detail += "; the lease had already expired or been removed"
	default:
		detail += "; the lease could not be deleted and expires by itself"
		a.log.Warn("release lease failed", logkey.ShellID, shellID, logkey.Err, err)
	}
	a.audit(ctx, store.AuditRecord{
		Time: a.now(), TenantID: sh.owner.TenantID, UserID: sh.owner.UserID, UPN: sh.owner.UPN,
		Action: store.ActionSessionClose, ShellID: shellID, Outcome: store.OutcomeOK,
		ClientAddr: sh.clientAddr, Detail: detail,
	})
}

// audit writes a record that no caller waits on; failures are logged.
func (a *Admitter) audit(ctx context.Context, rec store.AuditRecord) {
	if _, err := a.st.AppendAudit(ctx, rec); err != nil {
		a.log.Error("audit write failed", logkey.Action, rec.Action, logkey.ShellID, rec.ShellID, logkey.Err, err)
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
