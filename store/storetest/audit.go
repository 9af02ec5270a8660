package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

var auditTests = []test{
	{"AppendAndSearch", testAuditAppendAndSearch},
}

func testAuditAppendAndSearch(t *testing.T, e *env) {
	t0 := e.clock.Now()
	recs := []store.AuditRecord{
		{Time: t0, TenantID: 1, UserID: 10, UPN: "Alice@contoso.test", Action: store.ActionSessionOpen, ShellID: "s1",
			Outcome: store.OutcomeOK, ClientAddr: "192.0.2.1"},
		{Time: t0.Add(time.Second), TenantID: 1, UserID: 10, UPN: "alice@contoso.test", Action: store.ActionCommand,
			ShellID: "s1", CommandID: "c1", Cmdlet: "Get-CsOnlineUser", Parameters: `{"Identity":"bob@contoso.test"}`,
			Outcome: store.OutcomeOK, Duration: 1500 * time.Microsecond},
		{Time: t0.Add(2 * time.Second), TenantID: 2, UserID: 20, UPN: "mallory@fabrikam.test",
			Action: store.ActionSessionRefused, Outcome: store.OutcomeRefused, Code: "admission.user-quota-exceeded",
			Detail: "3 of 3"},
		{Time: t0.Add(3 * time.Second), TenantID: 1, UserID: 10, UPN: "alice@contoso.test",
			Action: store.ActionSessionClose, ShellID: "s1", Outcome: store.OutcomeOK},
		{TenantID: 1, UPN: "eve@contoso.test", Action: store.ActionAuthFailed, Outcome: store.OutcomeError,
			Code: "identity.logon-failed"}, // zero time: the store clock
	}
	for i := range recs {
		id, err := e.s.AppendAudit(e.ctx, recs[i])
		wantErr(t, "AppendAudit", err, nil)
		recs[i].ID = id
		if i > 0 && id <= recs[i-1].ID {
			t.Errorf("AppendAudit() ID %d not above the previous %d", id, recs[i-1].ID)
		}
	}
	recs[0].UPN = "alice@contoso.test" // stored lower-case
	recs[4].Time = t0
	_, err := e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: 1})
	wantErr(t, "AppendAudit(no action)", err, store.ErrInvalid)

	pick := func(is ...int) []store.AuditRecord {
		var out []store.AuditRecord
		for _, i := range is {
			out = append(out, recs[i])
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []store.AuditRecord
	}{
		{"all tenants, newest first", store.AuditFilter{}, pick(4, 3, 2, 1, 0)},
		{"tenant isolation", store.AuditFilter{TenantID: 2}, pick(2)},
		{"tenant", store.AuditFilter{TenantID: 1}, pick(4, 3, 1, 0)},
		{"UPN any case", store.AuditFilter{TenantID: 1, UPN: "ALICE@contoso.test"}, pick(3, 1, 0)},
		{"UPN of other tenant", store.AuditFilter{TenantID: 1, UPN: "mallory@fabrikam.test"}, nil},
		{"action", store.AuditFilter{Action: store.ActionCommand}, pick(1)},
		{"action prefix", store.AuditFilter{Action: "session.*"}, pick(3, 2, 0)},
		{"shell", store.AuditFilter{ShellID: "s1"}, pick(3, 1, 0)},
		{"since inclusive, until exclusive", store.AuditFilter{Since: t0.Add(time.Second), Until: t0.Add(3 * time.Second)}, pick(2, 1)},
		{"limit", store.AuditFilter{TenantID: 1, Limit: 2}, pick(4, 3)},
	}
	for _, tt := range tests {
		got, err := e.s.SearchAudit(e.ctx, tt.f)
		wantErr(t, "SearchAudit("+tt.name+")", err, nil)
		if diff := diff(got, tt.want); diff != "" {
			t.Errorf("SearchAudit(%s) (-got +want):\n%s", tt.name, diff)
		}
	}
}
