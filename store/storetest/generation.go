package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

var generationTests = []test{
	{"EveryDirectoryChange", testGenerationEveryChange},
	{"OtherWritesLeaveIt", testGenerationOtherWrites},
	{"ReadByTheAuditCommit", testGenerationAuditCommit},
}

// generation reads the directory generation.
func (e *env) generation(t *testing.T) int64 {
	t.Helper()
	g, err := e.s.DirectoryGeneration(e.ctx)
	if err != nil {
		t.Fatalf("DirectoryGeneration() error = %v", err)
	}
	return g
}

// revocable returns tenant contoso, its user alice, and its Tenant
// Administrator role, held by another user (carol) so that alice's may
// be revoked.
func (e *env) revocable(t *testing.T) (store.Tenant, store.User, store.Role) {
	t.Helper()
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	admin := e.role(t, tn.ID, store.RoleTenantAdministrator)
	carol := e.user(t, tn.ID, "carol@contoso.test")
	if err := e.s.Assign(e.ctx, store.Assignment{TenantID: tn.ID, UserID: carol.ID, RoleID: admin.ID}); err != nil {
		t.Fatalf("Assign error = %v", err)
	}
	return tn, u, admin
}

// testGenerationEveryChange: a cache that compares generations must see
// every kind of directory change, or it would serve a revoked role or a
// disabled account.
func testGenerationEveryChange(t *testing.T, e *env) {
	tn, u, admin := e.revocable(t)
	var custom store.Role
	steps := []struct {
		name string
		do   func() error
	}{
		{"CreateTenant", func() error {
			_, err := e.s.CreateTenant(e.ctx, store.Tenant{Name: "fabrikam", Domain: "fabrikam.test", Policy: store.DefaultPolicy()})
			return err
		}},
		{"UpdatePolicy", func() error {
			p := tn.Policy
			p.MaxShellsPerUser = 2
			return e.s.UpdatePolicy(e.ctx, tn.ID, p)
		}},
		{"CreateUser", func() error {
			_, err := e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID, UPN: "bob@contoso.test", Enabled: true})
			return err
		}},
		{"UpdateUser (disable)", func() error {
			u.Enabled = false
			var err error
			u, err = e.s.UpdateUser(e.ctx, u)
			return err
		}},
		{"SetPassword", func() error { return e.s.SetPassword(e.ctx, u.ID, "$argon2id$x", e.clock.Now()) }},
		{"Assign", func() error {
			return e.s.Assign(e.ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: admin.ID, AssignedBy: "test"})
		}},
		{"Revoke", func() error { return e.s.Revoke(e.ctx, tn.ID, u.ID, admin.ID) }},
		{"CreateRole", func() error {
			var err error
			custom, err = e.s.CreateRole(e.ctx, store.Role{TenantID: tn.ID, Name: "Voice", Entries: []store.RoleEntry{{Cmdlet: "Set-CsUser"}}})
			return err
		}},
		{"DeleteRole", func() error { return e.s.DeleteRole(e.ctx, tn.ID, custom.ID) }},
		{"DeleteUser", func() error { return e.s.DeleteUser(e.ctx, u.ID) }},
		{"DeleteTenant", func() error { return e.s.DeleteTenant(e.ctx, tn.ID) }},
	}
	for _, s := range steps {
		before := e.generation(t)
		if err := s.do(); err != nil {
			t.Fatalf("%s error = %v", s.name, err)
		}
		if after := e.generation(t); after <= before {
			t.Errorf("%s: directory generation %d → %d, want it to grow", s.name, before, after)
		}
	}
}

// testGenerationOtherWrites: audit records, leases and sign-in failures
// are not directory changes; if they bumped the generation, every
// command would empty the caches of every node.
func testGenerationOtherWrites(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	before := e.generation(t)
	if _, err := e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: tn.ID, UserID: u.ID, Action: store.ActionCommand, Outcome: store.OutcomeOK}); err != nil {
		t.Fatalf("AppendAudit error = %v", err)
	}
	if _, err := e.s.RecordLoginFailure(e.ctx, "alice", e.clock.Now(), time.Minute, 10, time.Minute); err != nil {
		t.Fatalf("RecordLoginFailure error = %v", err)
	}
	if after := e.generation(t); after != before {
		t.Errorf("audit and sign-in failure writes moved the directory generation %d → %d", before, after)
	}
}

// testGenerationAuditCommit: admission validates a command's directory
// cache with the generation the commit of the command's audit record read
// (store.AuditGenerations), so that generation must be the current one: a
// stale one would let a command run on a revoked role. Alone and in
// batches of concurrent records, after each kind of change.
func testGenerationAuditCommit(t *testing.T, e *env) {
	ag, ok := e.s.(store.AuditGenerations)
	if !ok {
		t.Fatalf("%T does not implement store.AuditGenerations", e.s)
	}
	tn, u, admin := e.revocable(t)
	rec := store.AuditRecord{TenantID: tn.ID, UserID: u.ID, Action: store.ActionCommand, Outcome: store.OutcomeStarted}
	changes := []func() error{
		func() error {
			return e.s.Assign(e.ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: admin.ID})
		},
		func() error { return e.s.Revoke(e.ctx, tn.ID, u.ID, admin.ID) },
		func() error {
			u.Enabled = false
			var err error
			u, err = e.s.UpdateUser(e.ctx, u)
			return err
		},
	}
	for i, change := range changes {
		if err := change(); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		want := e.generation(t)
		ids, gen, err := ag.AppendAudits(e.ctx, []store.AuditRecord{rec})
		if err != nil || len(ids) != 1 || ids[0] == 0 {
			t.Fatalf("change %d: AppendAudits = IDs %v, %v", i, ids, err)
		}
		if gen != want {
			t.Errorf("change %d: AppendAudits read generation %d, want the current %d", i, gen, want)
		}
		// Concurrent pipelines share commits; each must get the
		// generation too, and the completions between them none.
		var wg sync.WaitGroup
		gens := make([]int64, 16)
		errs := make([]error, 16)
		for j := range gens {
			wg.Go(func() {
				var rids []int64
				rids, gens[j], errs[j] = ag.AppendAudits(e.ctx, []store.AuditRecord{rec, rec})
				for _, id := range rids {
					if errs[j] == nil {
						errs[j] = e.s.CompleteAudit(e.ctx, id, store.OutcomeOK, "", time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		for j := range gens {
			if errs[j] != nil || gens[j] != want {
				t.Errorf("change %d, concurrent pipeline %d: generation %d, error %v; want %d", i, j, gens[j], errs[j], want)
			}
		}
	}

	// A pipeline's records, in order, each its own row.
	pipeline := []store.AuditRecord{rec, rec, rec}
	for k, cmdlet := range []string{"Get-CsOnlineUser", "Where-Object", "Set-CsUser"} {
		pipeline[k].Cmdlet, pipeline[k].ShellID = cmdlet, "pipeline-shell"
	}
	ids, _, err := ag.AppendAudits(e.ctx, pipeline)
	if err != nil || len(ids) != 3 {
		t.Fatalf("AppendAudits(3 records) = %v, %v", ids, err)
	}
	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: tn.ID, ShellID: "pipeline-shell"})
	if err != nil || len(got) != 3 {
		t.Fatalf("SearchAudit after a pipeline of 3 = %d records, %v", len(got), err)
	}
	for k, r := range got { // newest first
		if want := pipeline[2-k]; r.ID != ids[2-k] || r.Cmdlet != want.Cmdlet || r.Outcome != store.OutcomeStarted {
			t.Errorf("record %d = ID %d %s (%s), want ID %d %s (started)", k, r.ID, r.Cmdlet, r.Outcome, ids[2-k], want.Cmdlet)
		}
	}
	if _, _, err := ag.AppendAudits(e.ctx, []store.AuditRecord{rec, {}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AppendAudits(a record without action) error = %v, want store.ErrInvalid", err)
	}
}
