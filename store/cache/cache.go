// Package cache keeps a node's copy of the directory (tenants and their
// policies, users, roles and role assignments) in front of a store, so
// that a command does not read them from the database.
//
// The copy is never trusted blindly: before it serves a read the cache
// reads the store's directory generation (store.Generations), a single
// number that triggers in the database bump in the same transaction as
// any directory change, on any node. If the number moved, the copy is
// dropped. So a role revoked or an account disabled anywhere is seen by
// the next read on every node, and the only store read left per command
// is that number: one indexed row, and under load one read serves every
// caller that was waiting when it started (see generations).
//
// Within a command the number need not be read again: Pin returns a
// context in which the first read validates the copy and the later reads
// trust that answer, so a command sees the directory as it was when it
// started, like a read transaction would show it. A command that writes
// an audit record before it runs (admission) need not read it at all:
// the commit of the record reads the number too (AppendAudits), and
// PinAt validates the copy with it.
package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

// MaxEntries bounds each of the cache's maps; a map that reaches it is
// emptied and fills again with what is read next. 65,536 users and as
// many tenants is a few tens of MiB at most.
const MaxEntries = 1 << 16

// Store is a store.Store whose directory reads are served from memory
// while the directory generation has not moved. Writes go to the store
// and drop the copy. It is safe for concurrent use.
type Store struct {
	store.Store
	gens *generations
	// stamped counts the generations the audit log read
	// (AppendAudits).
	stamped atomic.Int64

	mu sync.Mutex
	// gen is the generation the maps hold; 0 means none (a local write
	// dropped them, and nothing may be kept until the next validation).
	gen         int64
	tenants     map[psgate.TenantID]store.Tenant
	tenantNames map[string]store.Tenant
	users       map[psgate.UserID]store.User
	usersByUPN  map[string]store.User
	// Names that are no tenant's and no user's, with the store's answer:
	// sign-ins with unknown names (a password spray's, a typo's) then
	// cost no store read. Apart from the names found, so that a flood of
	// unknown names empties only these maps when they reach MaxEntries.
	noTenantNames map[string]error
	noUPNs        map[string]error
	rolesOf       map[userKey][]store.Role
	roles         map[psgate.TenantID][]store.Role
	stats         Stats
}

// Stats counts how reads were served.
type Stats struct {
	Hits, Misses int64
	// Validations counts generation reads of the store; Drops the
	// times the copy was dropped because the generation moved or a
	// write went through this cache.
	Validations, Drops int64
	// AuditValidations counts the generations read by audit commits
	// (AppendAudits), which cost no read of their own.
	AuditValidations int64
}

// New returns a cache in front of st.
func New(st store.Store) *Store {
	s := &Store{Store: st}
	s.gens = newGenerations(st.DirectoryGeneration)
	s.tenants = make(map[psgate.TenantID]store.Tenant)
	s.tenantNames = make(map[string]store.Tenant)
	s.users = make(map[psgate.UserID]store.User)
	s.usersByUPN = make(map[string]store.User)
	s.noTenantNames = make(map[string]error)
	s.noUPNs = make(map[string]error)
	s.rolesOf = make(map[userKey][]store.Role)
	s.roles = make(map[psgate.TenantID][]store.Role)
	return s
}

// Stats returns the counters so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Validations = s.gens.reads.Load()
	st.AuditValidations = s.stamped.Load()
	return st
}

// pin is the validation shared by the reads of one pinned context.
type pin struct {
	once sync.Once
	gen  int64
	err  error
}

type pinKey struct{ s *Store }

// Pin returns ctx in which reads through s validate the copy once, at the
// first read, and then trust it: what a command reads is consistent with
// the directory as it was at that first read. Use it for the span of one
// command, not longer, or changes made meanwhile stay unseen.
func (s *Store) Pin(ctx context.Context) context.Context {
	return context.WithValue(ctx, pinKey{s}, &pin{})
}

// AppendAudits implements store.AuditGenerations for a store that does;
// for one that does not, it appends the records one by one and answers
// generation 0 (unknown).
func (s *Store) AppendAudits(ctx context.Context, recs []store.AuditRecord) (ids []int64, gen int64, err error) {
	ids, gen, err = store.AppendAudits(ctx, s.Store, recs)
	if gen != 0 {
		s.stamped.Add(1)
	}
	return ids, gen, err
}

// CompleteAudits implements store.AuditCompletions for a store that
// does; for one that does not, it completes the records one by one.
func (s *Store) CompleteAudits(ctx context.Context, ids []int64, outcome, code string, dur time.Duration) []error {
	return store.CompleteAudits(ctx, s.Store, ids, outcome, code, dur)
}

// PinAt is Pin with the copy validated against gen, a directory
// generation read after the command began (AppendAudits'): the
// command's reads then need no generation read at all. gen 0 (unknown)
// is Pin.
func (s *Store) PinAt(ctx context.Context, gen int64) context.Context {
	if gen == 0 {
		return s.Pin(ctx)
	}
	p := &pin{gen: gen}
	p.once.Do(func() {}) // validated: the first read takes gen
	return context.WithValue(ctx, pinKey{s}, p)
}

// validate returns the store's current directory generation, read after
// the call began (or once per pinned context), and drops the copy if it
// moved.
func (s *Store) validate(ctx context.Context) (int64, error) {
	var gen int64
	var err error
	if p, ok := ctx.Value(pinKey{s}).(*pin); ok {
		p.once.Do(func() { p.gen, p.err = s.gens.read(ctx) })
		gen, err = p.gen, p.err
	} else {
		gen, err = s.gens.read(ctx)
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if gen > s.gen {
		s.reset(gen)
	}
	s.mu.Unlock()
	return gen, nil
}

// reset drops the copy; s.mu is held.
func (s *Store) reset(gen int64) {
	if s.gen != 0 || gen == 0 {
		s.stats.Drops++
	}
	s.gen = gen
	clear(s.tenants)
	clear(s.tenantNames)
	clear(s.users)
	clear(s.usersByUPN)
	clear(s.noTenantNames)
	clear(s.noUPNs)
	clear(s.rolesOf)
	clear(s.roles)
}

// cached is the read path of every cached method: validate, serve m[k]
// if the copy is at that generation, else read and keep the answer if
// the copy is still at it (the answer was read after the generation was,
// so it is at least that new). A read validated at an older generation
// than the copy's (it raced a newer validation) goes to the store: the
// copy might be newer than it needs, which would be harmless, but one
// rule is easier to check.
func cached[K comparable, V any](ctx context.Context, s *Store, m map[K]V, k K, read func() (V, error)) (V, error) {
	return cachedOrMissing(ctx, s, m, nil, k, read)
}

// cachedOrMissing is cached that also keeps, in miss (when not nil), the
// keys the store answered ErrNotFound for, with that answer.
func cachedOrMissing[K comparable, V any](ctx context.Context, s *Store, m map[K]V, miss map[K]error, k K, read func() (V, error)) (V, error) {
	var zero V
	gen, err := s.validate(ctx)
	if err != nil {
		return zero, err
	}
	s.mu.Lock()
	if s.gen == gen {
		if v, ok := m[k]; ok {
			s.stats.Hits++
			s.mu.Unlock()
			return v, nil
		}
		if err, ok := miss[k]; ok {
			s.stats.Hits++
			s.mu.Unlock()
			return zero, err
		}
	}
	s.stats.Misses++
	s.mu.Unlock()
	v, err := read()
	if err != nil && (miss == nil || !errors.Is(err, store.ErrNotFound)) {
		return v, err
	}
	s.mu.Lock()
	if s.gen == gen {
		if err != nil {
			keep(miss, k, err)
		} else {
			keep(m, k, v)
		}
	}
	s.mu.Unlock()
	return v, err
}

// keep puts v in m, emptying m first when it is full; s.mu is held.
func keep[K comparable, V any](m map[K]V, k K, v V) {
	if len(m) >= MaxEntries {
		clear(m)
	}
	m[k] = v
}

// dropped runs a write and drops the copy, so that reads in a pinned
// context after a write of its own command see the write.
func (s *Store) dropped(err error) error {
	s.mu.Lock()
	s.reset(0)
	s.mu.Unlock()
	return err
}

// userKey names a user of a tenant.
type userKey struct {
	tenant psgate.TenantID
	user   psgate.UserID
}

// Tenant implements store.Tenants from the copy.
func (s *Store) Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error) {
	return cached(ctx, s, s.tenants, id, func() (store.Tenant, error) {
		return s.Store.Tenant(ctx, id)
	})
}

// TenantByName implements store.Tenants from the copy.
func (s *Store) TenantByName(ctx context.Context, nameOrDomain string) (store.Tenant, error) {
	return cachedOrMissing(ctx, s, s.tenantNames, s.noTenantNames, codec.Fold(nameOrDomain), func() (store.Tenant, error) {
		return s.Store.TenantByName(ctx, nameOrDomain)
	})
}

// User implements store.Users from the copy.
func (s *Store) User(ctx context.Context, id psgate.UserID) (store.User, error) {
	return cached(ctx, s, s.users, id, func() (store.User, error) {
		return s.Store.User(ctx, id)
	})
}

// UserByUPN implements store.Users from the copy.
func (s *Store) UserByUPN(ctx context.Context, upn string) (store.User, error) {
	return cachedOrMissing(ctx, s, s.usersByUPN, s.noUPNs, codec.Fold(upn), func() (store.User, error) {
		return s.Store.UserByUPN(ctx, upn)
	})
}

// RolesOf implements store.Roles from the copy. The slice is the
// caller's; the roles' entries are shared and must not be modified.
func (s *Store) RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error) {
	r, err := cached(ctx, s, s.rolesOf, userKey{tenantID, userID}, func() ([]store.Role, error) {
		return s.Store.RolesOf(ctx, tenantID, userID)
	})
	return clone(r), err
}

// ListRoles implements store.Roles from the copy, with RolesOf's rule on
// sharing.
func (s *Store) ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error) {
	r, err := cached(ctx, s, s.roles, tenantID, func() ([]store.Role, error) {
		return s.Store.ListRoles(ctx, tenantID)
	})
	return clone(r), err
}

func clone(r []store.Role) []store.Role {
	if r == nil {
		return nil
	}
	return append([]store.Role(nil), r...)
}

// The writes of the directory go to the store and drop the copy.

// CreateTenant implements store.Tenants.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant, admins ...store.FirstAdmin) (store.Tenant, error) {
	t, err := s.Store.CreateTenant(ctx, t, admins...)
	return t, s.dropped(err)
}

// UpdatePolicy implements store.Tenants.
func (s *Store) UpdatePolicy(ctx context.Context, id psgate.TenantID, p store.Policy) error {
	return s.dropped(s.Store.UpdatePolicy(ctx, id, p))
}

// DeleteTenant implements store.Tenants.
func (s *Store) DeleteTenant(ctx context.Context, id psgate.TenantID) error {
	return s.dropped(s.Store.DeleteTenant(ctx, id))
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, u store.User, grants ...store.Grant) (store.User, error) {
	u, err := s.Store.CreateUser(ctx, u, grants...)
	return u, s.dropped(err)
}

// UpdateUser implements store.Users.
func (s *Store) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	u, err := s.Store.UpdateUser(ctx, u)
	return u, s.dropped(err)
}

// SetPassword implements store.Users.
func (s *Store) SetPassword(ctx context.Context, userID psgate.UserID, hash string, changedAt time.Time) error {
	return s.dropped(s.Store.SetPassword(ctx, userID, hash, changedAt))
}

// DeleteUser implements store.Users.
func (s *Store) DeleteUser(ctx context.Context, userID psgate.UserID) error {
	return s.dropped(s.Store.DeleteUser(ctx, userID))
}

// CreateRole implements store.Roles.
func (s *Store) CreateRole(ctx context.Context, r store.Role) (store.Role, error) {
	r, err := s.Store.CreateRole(ctx, r)
	return r, s.dropped(err)
}

// DeleteRole implements store.Roles.
func (s *Store) DeleteRole(ctx context.Context, tenantID psgate.TenantID, roleID int64) error {
	return s.dropped(s.Store.DeleteRole(ctx, tenantID, roleID))
}

// Assign implements store.Roles.
func (s *Store) Assign(ctx context.Context, a store.Assignment) error {
	return s.dropped(s.Store.Assign(ctx, a))
}

// Revoke implements store.Roles.
func (s *Store) Revoke(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, roleID int64) error {
	return s.dropped(s.Store.Revoke(ctx, tenantID, userID, roleID))
}
