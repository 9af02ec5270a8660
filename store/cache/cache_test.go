package cache_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/cache"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/postgres/pgtest"
	"github.com/psgate/psgate/store/sqlite"
)

// nodes returns two handles on one store: what two gateway nodes (or a
// node and an operator's CLI) hold. SQLite: two opens of one file.
// PostgreSQL (PSGATE_TEST_POSTGRES_DSN): two pools on one fresh schema.
func nodes(t *testing.T, kind string) (a, b store.Store) {
	t.Helper()
	ctx := t.Context()
	switch kind {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "psgate.db")
		open := func() store.Store {
			db, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open()
	default:
		dsn := pgtest.Schema(t)
		open := func() store.Store {
			db, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open()
	}
}

var kinds = []string{"sqlite", "postgres"}

// cachedNodes returns node A's cache, node B's plain handle on the same
// store, and the fixture set up through B.
func cachedNodes(t *testing.T, kind string) (*cache.Store, store.Store, fixture) {
	t.Helper()
	rawA, b := nodes(t, kind)
	return cache.New(rawA), b, setUp(t, b)
}

// fixture is a tenant with an administrator (so that another user's role
// may be revoked) and a user holding a role.
type fixture struct {
	tenant store.Tenant
	user   store.User
	role   store.Role
}

func setUp(t *testing.T, st store.Store) fixture {
	t.Helper()
	ctx := t.Context()
	tn, err := st.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := st.RoleByName(ctx, tn.ID, store.RoleTenantAdministrator)
	if err != nil {
		t.Fatal(err)
	}
	for _, upn := range []string{"admin@contoso.test", "alice@contoso.test"} {
		u, err := st.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: admin.ID}); err != nil {
			t.Fatal(err)
		}
		if upn == "alice@contoso.test" {
			return fixture{tenant: tn, user: u, role: admin}
		}
	}
	panic("unreachable")
}

// TestChangesOnAnotherNodeSeenAtOnce: node A's cache serves repeated
// reads from memory, and a role revoked, an account disabled or a policy
// changed through node B (which A's cache never sees writing) is what A
// reads next, pinned or not.
func TestChangesOnAnotherNodeSeenAtOnce(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := t.Context()
			a, b, f := cachedNodes(t, kind)

			warm := func() {
				for range 3 {
					if _, err := a.User(ctx, f.user.ID); err != nil {
						t.Fatal(err)
					}
					if _, err := a.RolesOf(ctx, f.tenant.ID, f.user.ID); err != nil {
						t.Fatal(err)
					}
					if _, err := a.Tenant(ctx, f.tenant.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			warm()
			if st := a.Stats(); st.Hits < 6 {
				t.Fatalf("after repeated reads, stats = %+v; want the repeats served from memory", st)
			}

			if err := b.Revoke(ctx, f.tenant.ID, f.user.ID, f.role.ID); err != nil {
				t.Fatal(err)
			}
			if roles, err := a.RolesOf(a.Pin(ctx), f.tenant.ID, f.user.ID); err != nil || len(roles) != 0 {
				t.Errorf("node A after the revocation on B: roles %v, %v; want none", roles, err)
			}

			warm()
			u := f.user
			u.Enabled = false
			if _, err := b.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if got, err := a.User(ctx, f.user.ID); err != nil || got.Enabled {
				t.Errorf("node A after disabling on B: enabled %v, %v; want disabled", got.Enabled, err)
			}
			if got, err := a.UserByUPN(ctx, "ALICE@contoso.test"); err != nil || got.Enabled {
				t.Errorf("node A by UPN after disabling on B: enabled %v, %v; want disabled", got.Enabled, err)
			}

			warm()
			p := f.tenant.Policy
			p.MaxShellsPerUser = 1
			if err := b.UpdatePolicy(ctx, f.tenant.ID, p); err != nil {
				t.Fatal(err)
			}
			if got, err := a.TenantByName(ctx, "CONTOSO"); err != nil || got.Policy.MaxShellsPerUser != 1 {
				t.Errorf("node A after the policy change on B: %d shells per user, %v; want 1", got.Policy.MaxShellsPerUser, err)
			}
			if err := b.DeleteUser(ctx, f.user.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.User(ctx, f.user.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("node A after deleting the user on B: %v; want not found", err)
			}
		})
	}
}

// TestUnknownNamesCachedUntilTheyExist: a name that is no user's or
// tenant's is read from the store once, then answered from memory (a
// password spray's unknown names cost no store read), until a user or
// tenant of that name is created, on this node or another.
func TestUnknownNamesCachedUntilTheyExist(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := t.Context()
			a, b, f := cachedNodes(t, kind)
			unknown := func() {
				t.Helper()
				if _, err := a.UserByUPN(ctx, "Nobody@contoso.test"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("UserByUPN(unknown) = %v, want not found", err)
				}
				if _, err := a.TenantByName(ctx, "Fabrikam"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("TenantByName(unknown) = %v, want not found", err)
				}
			}
			unknown()
			before := a.Stats()
			for range 5 {
				unknown()
			}
			if st := a.Stats(); st.Misses != before.Misses || st.Hits != before.Hits+10 {
				t.Errorf("stats %+v after %+v and 10 reads of unknown names; want 10 hits, no store read", st, before)
			}
			// Created on another node: seen at the next read.
			if _, err := b.CreateUser(ctx, store.User{TenantID: f.tenant.ID, UPN: "nobody@contoso.test", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			if u, err := a.UserByUPN(ctx, "NOBODY@contoso.test"); err != nil || u.UPN != "nobody@contoso.test" {
				t.Errorf("UserByUPN after the user was created on B = %+v, %v", u, err)
			}
			// Created through this node's cache: seen at once too.
			if _, err := a.CreateTenant(ctx, store.Tenant{Name: "fabrikam", Domain: "fabrikam.test", Policy: store.DefaultPolicy()}); err != nil {
				t.Fatal(err)
			}
			if tn, err := a.TenantByName(ctx, "Fabrikam"); err != nil || tn.Name != "fabrikam" {
				t.Errorf("TenantByName after the tenant was created here = %+v, %v", tn, err)
			}
		})
	}
}

// TestPinReadsGenerationOnce: the reads of one command validate the
// cache once; without a pin each read validates.
func TestPinReadsGenerationOnce(t *testing.T) {
	ctx := t.Context()
	a, _, f := cachedNodes(t, "sqlite")
	pinned := a.Pin(ctx)
	before := a.Stats().Validations
	for range 5 {
		if _, err := a.User(pinned, f.user.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.RolesOf(pinned, f.tenant.ID, f.user.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Stats().Validations - before; got != 1 {
		t.Errorf("10 reads in one pinned context read the generation %d times, want 1", got)
	}
	before = a.Stats().Validations
	for range 5 {
		if _, err := a.User(ctx, f.user.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Stats().Validations - before; got != 5 {
		t.Errorf("5 unpinned reads, one at a time, read the generation %d times, want 5", got)
	}
}

// TestAuditCommitValidatesPin: the generation the commit of a command's
// audit record read validates the command's pin (admission's path), so a
// revocation or a disabled account on another node is seen with no
// generation read besides the audit commit's.
func TestAuditCommitValidatesPin(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := t.Context()
			a, b, f := cachedNodes(t, kind)
			rec := store.AuditRecord{TenantID: f.tenant.ID, UserID: f.user.ID, Action: store.ActionCommand, Outcome: store.OutcomeStarted}
			command := func() (store.User, []store.Role) {
				t.Helper()
				before := a.Stats()
				_, gen, err := a.AppendAudits(ctx, []store.AuditRecord{rec})
				if err != nil || gen == 0 {
					t.Fatalf("AppendAudits: generation %d, %v", gen, err)
				}
				pinned := a.PinAt(ctx, gen)
				u, err := a.User(pinned, f.user.ID)
				if err != nil {
					t.Fatal(err)
				}
				roles, err := a.RolesOf(pinned, f.tenant.ID, f.user.ID)
				if err != nil {
					t.Fatal(err)
				}
				after := a.Stats()
				if reads, audit := after.Validations-before.Validations, after.AuditValidations-before.AuditValidations; reads != 0 || audit != 1 {
					t.Errorf("a command read the generation %d times itself and %d times in its audit commit, want 0 and 1", reads, audit)
				}
				return u, roles
			}
			if _, roles := command(); len(roles) != 1 {
				t.Fatalf("roles before the revocation: %v", roles)
			}
			command() // served from memory
			if err := b.Revoke(ctx, f.tenant.ID, f.user.ID, f.role.ID); err != nil {
				t.Fatal(err)
			}
			if _, roles := command(); len(roles) != 0 {
				t.Errorf("node A's next command after the revocation on B: roles %v, want none", roles)
			}
			u := f.user
			u.Enabled = false
			if _, err := b.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if got, _ := command(); got.Enabled {
				t.Error("node A's next command after disabling the user on B: enabled, want disabled")
			}
		})
	}
}

// TestOwnWriteSeenInPin: a command that changes the directory through the
// cache and reads it back in the same pinned context reads its change.
func TestOwnWriteSeenInPin(t *testing.T) {
	ctx := t.Context()
	raw, _ := nodes(t, "sqlite")
	a := cache.New(raw)
	f := setUp(t, a)
	pinned := a.Pin(ctx)
	if u, err := a.User(pinned, f.user.ID); err != nil || u.Title != "" {
		t.Fatalf("User = %+v, %v", u, err)
	}
	u := f.user
	u.Title = "Voice admin"
	if _, err := a.UpdateUser(pinned, u); err != nil {
		t.Fatal(err)
	}
	if got, err := a.User(pinned, f.user.ID); err != nil || got.Title != "Voice admin" {
		t.Errorf("read back in the same command: title %q, %v; want the new one", got.Title, err)
	}
	if err := a.Revoke(pinned, f.tenant.ID, f.user.ID, f.role.ID); err != nil {
		t.Fatal(err)
	}
	if roles, err := a.RolesOf(pinned, f.tenant.ID, f.user.ID); err != nil || len(roles) != 0 {
		t.Errorf("roles read back in the same command: %v, %v; want none", roles, err)
	}
}

// TestConcurrentReadsAndChanges: readers on node A never see a role
// after node B's revocation of it committed (checked by ordering: a read
// that starts after Revoke returned must not see the role), under the
// race detector.
func TestConcurrentReadsAndChanges(t *testing.T) {
	ctx := t.Context()
	a, b, f := cachedNodes(t, "sqlite")
	var mu sync.RWMutex
	revoked := false
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 200 {
				mu.RLock()
				after := revoked
				mu.RUnlock()
				roles, err := a.RolesOf(a.Pin(ctx), f.tenant.ID, f.user.ID)
				if err != nil {
					errs <- err
					return
				}
				if after && len(roles) != 0 {
					errs <- errors.New("a read begun after the revocation returned the revoked role")
					return
				}
			}
		})
	}
	if err := b.Revoke(ctx, f.tenant.ID, f.user.ID, f.role.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	revoked = true
	mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := a.Stats(); st.Validations >= st.Hits+st.Misses {
		t.Logf("stats %+v: no read shared a generation read", st)
	}
}

// TestStoreDown: when the store cannot be read, the cache does not serve
// its copy (a revoked role must not outlive the ability to check it).
func TestStoreDown(t *testing.T) {
	ctx := t.Context()
	rawA, b := nodes(t, "sqlite")
	a := cache.New(rawA)
	f := setUp(t, b)
	if _, err := a.User(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	rawA.Close()
	if _, err := a.User(ctx, f.user.ID); err == nil {
		t.Error("with the store closed, User served the cached copy")
	}
}
