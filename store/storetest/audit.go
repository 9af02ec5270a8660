package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

var auditTests = []test{
	{"AppendAndSearch", testAuditAppendAndSearch},
	{"Bounded", testAuditBounded},
	{"Purge", testAuditPurge},
	{"SearchByShell", testAuditSearchByShell},
	{"Concurrent", testAuditConcurrent},
	{"BadRecordFailsAlone", testAuditBadRecordFailsAlone},
	{"AppendAfterClose", testAuditAppendAfterClose},
	{"Complete", testAuditComplete},
	{"CompleteConcurrent", testAuditCompleteConcurrent},
	{"CompleteMany", testAuditCompleteMany},
}

// CompleteAudit fills in a started command record once, in place, and
// touches nothing else: not a finished record, not another field, not an
// unknown ID.
func testAuditComplete(t *testing.T, e *env) {
	started := concurrentRecord(e.clock.Now(), 1, 1)
	started.Outcome, started.Code, started.Duration = store.OutcomeStarted, "", 0
	id, err := e.s.AppendAudit(e.ctx, started)
	wantErr(t, "AppendAudit(started)", err, nil)
	done := concurrentRecord(e.clock.Now(), 2, 2) // already finished
	doneID, err := e.s.AppendAudit(e.ctx, done)
	wantErr(t, "AppendAudit(finished)", err, nil)

	wantErr(t, "CompleteAudit(started)", e.s.CompleteAudit(e.ctx, id, store.OutcomeError, "engine.parameter-not-found", 1500*time.Microsecond), nil)
	wantErr(t, "CompleteAudit again", e.s.CompleteAudit(e.ctx, id, store.OutcomeOK, "", time.Second), store.ErrNotFound)
	wantErr(t, "CompleteAudit(finished record)", e.s.CompleteAudit(e.ctx, doneID, store.OutcomeError, "x", time.Second), store.ErrNotFound)
	wantErr(t, "CompleteAudit(unknown ID)", e.s.CompleteAudit(e.ctx, doneID+1000, store.OutcomeOK, "", 0), store.ErrNotFound)
	wantErr(t, "CompleteAudit(ID 0)", e.s.CompleteAudit(e.ctx, 0, store.OutcomeOK, "", 0), store.ErrInvalid)
	wantErr(t, "CompleteAudit(outcome started)", e.s.CompleteAudit(e.ctx, doneID, store.OutcomeStarted, "", 0), store.ErrInvalid)

	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{})
	wantErr(t, "SearchAudit", err, nil)
	completed := started
	completed.ID, completed.Outcome, completed.Code, completed.Duration = id, store.OutcomeError, "engine.parameter-not-found", 1500*time.Microsecond
	done.ID = doneID
	if d := diff(got, []store.AuditRecord{done, completed}); d != "" {
		t.Errorf("after CompleteAudit (-got +want):\n%s", d)
	}
}

// CompleteAudits (a pipeline's commands ending together) completes each
// started record it names, as CompleteAudit would, and answers for each
// ID on its own: a record that is not a started one, or an invalid ID,
// fails alone and leaves the others completed.
func testAuditCompleteMany(t *testing.T, e *env) {
	ac, ok := e.s.(store.AuditCompletions)
	if !ok {
		t.Fatalf("%T does not implement store.AuditCompletions", e.s)
	}
	var started []store.AuditRecord
	var ids []int64
	for n := range 3 {
		r := concurrentRecord(e.clock.Now(), 1, n)
		r.Outcome, r.Code, r.Duration = store.OutcomeStarted, "", 0
		id, err := e.s.AppendAudit(e.ctx, r)
		wantErr(t, "AppendAudit(started)", err, nil)
		r.ID = id
		started, ids = append(started, r), append(ids, id)
	}
	done := concurrentRecord(e.clock.Now(), 2, 0) // already finished
	doneID, err := e.s.AppendAudit(e.ctx, done)
	wantErr(t, "AppendAudit(finished)", err, nil)
	done.ID = doneID

	// The first and third started records, the finished one, ID 0 and
	// an unknown ID; the second started record is left as it is.
	errs := ac.CompleteAudits(e.ctx, []int64{ids[0], doneID, 0, ids[2], doneID + 1000},
		store.OutcomeError, "engine.parameter-not-found", 2*time.Millisecond)
	if len(errs) != 5 {
		t.Fatalf("CompleteAudits of 5 IDs returned %d errors", len(errs))
	}
	for i, want := range []error{nil, store.ErrNotFound, store.ErrInvalid, nil, store.ErrNotFound} {
		wantErr(t, fmt.Sprintf("CompleteAudits: ID #%d", i), errs[i], want)
	}
	errs = ac.CompleteAudits(e.ctx, []int64{ids[0], ids[1]}, store.OutcomeOK, "", time.Second)
	wantErr(t, "CompleteAudits again: the completed record", errs[0], store.ErrNotFound)
	wantErr(t, "CompleteAudits again: the started record", errs[1], nil)

	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{})
	wantErr(t, "SearchAudit", err, nil)
	want := []store.AuditRecord{done, started[2], started[1], started[0]}
	for _, i := range []int{1, 3} {
		want[i].Outcome, want[i].Code, want[i].Duration = store.OutcomeError, "engine.parameter-not-found", 2*time.Millisecond
	}
	want[2].Outcome, want[2].Duration = store.OutcomeOK, time.Second
	if d := diff(got, want); d != "" {
		t.Errorf("after CompleteAudits (-got +want):\n%s", d)
	}
}

// Completions and appends of concurrent callers share transactions: every
// command's one record ends with its own outcome.
func testAuditCompleteConcurrent(t *testing.T, e *env) {
	const callers, each = 50, 8
	t0 := e.clock.Now()
	want := make([]store.AuditRecord, callers*each)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for n := range each {
				r := concurrentRecord(t0, g, n)
				outcome, code, dur := r.Outcome, r.Code, r.Duration
				r.Outcome, r.Code, r.Duration = store.OutcomeStarted, "", 0
				if r.ID, errs[g] = e.s.AppendAudit(e.ctx, r); errs[g] != nil {
					return
				}
				if n%2 == 1 {
					outcome = store.OutcomeError
				}
				if errs[g] = e.s.CompleteAudit(e.ctx, r.ID, outcome, code, dur); errs[g] != nil {
					return
				}
				r.Outcome, r.Code, r.Duration = outcome, code, dur
				want[g*each+n] = r
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		wantErr(t, "concurrent AppendAudit and CompleteAudit", err, nil)
	}
	slices.SortFunc(want, func(a, b store.AuditRecord) int { return cmp.Compare(b.ID, a.ID) })
	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{Limit: 2 * len(want)})
	wantErr(t, "SearchAudit", err, nil)
	if d := diff(got, want); d != "" {
		t.Errorf("SearchAudit after %d concurrent commands (-got +want):\n%s", len(want), d)
	}
}

// A client controls many audited strings (shell ids, user agents, names):
// what is stored is bounded whatever it sends, and stays valid text.
func testAuditBounded(t *testing.T, e *env) {
	huge := strings.Repeat("x", 1<<20)
	id, err := e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: 1, UPN: "alice\x00@contoso.test", Action: store.ActionSessionRefused,
		ShellID: huge, ClientAddr: huge, Detail: "user agent " + huge, Parameters: `{"a":"` + huge + `"}`, Cmdlet: "\xff\xfe" + huge})
	wantErr(t, "AppendAudit(huge)", err, nil)
	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: 1})
	wantErr(t, "SearchAudit", err, nil)
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("SearchAudit = %d records, want the one appended", len(got))
	}
	r := got[0]
	size := len(r.UPN) + len(r.Action) + len(r.ShellID) + len(r.CommandID) + len(r.Cmdlet) + len(r.Outcome) +
		len(r.Code) + len(r.ClientAddr) + len(r.Detail) + len(r.Parameters)
	if size > 32<<10 {
		t.Errorf("a record of client strings of 1 MiB each was stored as %d bytes", size)
	}
	for name, v := range map[string]string{"ShellID": r.ShellID, "ClientAddr": r.ClientAddr, "Detail": r.Detail, "Cmdlet": r.Cmdlet} {
		if !strings.Contains(v, "bytes)") || !utf8.ValidString(v) {
			t.Errorf("%s stored as %.60q…: want valid text that says how much was cut", name, v)
		}
	}
	if !json.Valid([]byte(r.Parameters)) {
		t.Errorf("cut Parameters are no longer JSON: %.60q", r.Parameters)
	}
	// PostgreSQL text cannot hold NUL: it is replaced, not refused.
	if r.UPN != "alice\uFFFD@contoso.test" {
		t.Errorf("UPN with a NUL stored as %q, want it replaced by U+FFFD", r.UPN)
	}
}

func testAuditPurge(t *testing.T, e *env) {
	t0 := e.clock.Now()
	for i := 0; i < 12; i++ {
		_, err := e.s.AppendAudit(e.ctx, store.AuditRecord{Time: t0.Add(time.Duration(i) * time.Hour), TenantID: 1,
			UPN: "alice@contoso.test", Action: store.ActionCommand, Outcome: store.OutcomeOK})
		wantErr(t, "AppendAudit", err, nil)
	}
	n, err := store.PurgeBefore(e.ctx, e.s, t0.Add(5*time.Hour), store.PurgeBatch, nil)
	wantErr(t, "PurgeBefore", err, nil)
	if n != 5 {
		t.Errorf("PurgeBefore(the 6th record) deleted %d, want 5", n)
	}
	left, err := e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: 1})
	wantErr(t, "SearchAudit", err, nil)
	if len(left) != 7 || !left[len(left)-1].Time.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("after the purge %d records remain, oldest %v; want 7 from %v", len(left), left[len(left)-1].Time, t0.Add(5*time.Hour))
	}
	if n, err := store.PurgeBefore(e.ctx, e.s, t0, store.PurgeBatch, nil); err != nil || n != 0 {
		t.Errorf("PurgeBefore(nothing older) = %d, %v", n, err)
	}

	// With a limit: that many, the oldest first, however they were
	// appended.
	n, err = e.s.PurgeAudit(e.ctx, t0.Add(9*time.Hour), 2)
	if err != nil || n != 2 {
		t.Fatalf("PurgeAudit(limit 2) = %d, %v; want 2", n, err)
	}
	left, err = e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: 1})
	wantErr(t, "SearchAudit", err, nil)
	if len(left) != 5 || !left[len(left)-1].Time.Equal(t0.Add(7*time.Hour)) {
		t.Errorf("after a purge of 2, %d records remain, oldest %v; want 5 from %v", len(left), left[len(left)-1].Time, t0.Add(7*time.Hour))
	}

	// A backlog of more than one batch, appended newest first.
	old := make([]store.AuditRecord, store.PurgeBatch+3)
	for i := range old {
		old[i] = store.AuditRecord{Time: t0.Add(-time.Duration(i+1) * time.Second), TenantID: 2,
			Action: store.ActionCommand, Outcome: store.OutcomeOK}
	}
	for chunk := range slices.Chunk(old, 500) {
		_, _, err := store.AppendAudits(e.ctx, e.s, chunk)
		wantErr(t, "AppendAudits", err, nil)
	}
	// Appended newest first: a limit still takes the oldest.
	if n, err := e.s.PurgeAudit(e.ctx, t0, 3); err != nil || n != 3 {
		t.Fatalf("PurgeAudit(limit 3) = %d, %v; want 3", n, err)
	}
	rest, err := e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: 2, Limit: 2 * len(old)})
	wantErr(t, "SearchAudit", err, nil)
	if len(rest) == 0 {
		t.Fatal("a purge of 3 left none of the backlog")
	}
	oldest := slices.MinFunc(rest, func(a, b store.AuditRecord) int { return a.Time.Compare(b.Time) })
	if len(rest) != len(old)-3 || !oldest.Time.Equal(old[len(old)-4].Time) {
		t.Errorf("after a purge of 3, %d records remain, oldest %v; want %d from %v",
			len(rest), oldest.Time, len(old)-3, old[len(old)-4].Time)
	}
	// Without a limit, all of them.
	if n, err := store.PurgeBefore(e.ctx, e.s, t0, store.PurgeBatch, nil); err != nil || n != int64(len(old)-3) {
		t.Errorf("PurgeBefore(%d older) = %d, %v", len(old)-3, n, err)
	}
	if left, err := e.s.SearchAudit(e.ctx, store.AuditFilter{Limit: 100}); err != nil || len(left) != 5 {
		t.Errorf("after purging the backlog %d records remain (%v), want the 5 newer", len(left), err)
	}
}

// A search by shell finds every record of the shell, however its records
// begin: with its session.open, with a refusal of the same client-chosen
// ID, with no start at all (purged), or twice (an ID used again).
func testAuditSearchByShell(t *testing.T, e *env) {
	t0 := e.clock.Now()
	type rec struct{ action, shell string }
	var ids []int64
	for i, r := range []rec{
		{store.ActionCommand, "no-start"},     // 0: its open was purged
		{store.ActionCommand, "no-start"},     // 1
		{store.ActionSessionRefused, "late"},  // 2: refused, tried again later
		{store.ActionSessionOpen, "other"},    // 3
		{store.ActionSessionOpen, "late"},     // 4
		{store.ActionCommand, "late"},         // 5
		{store.ActionSessionOpen, "reused"},   // 6
		{store.ActionSessionClose, "reused"},  // 7
		{store.ActionCommand, "no-start"},     // 8
		{store.ActionSessionClose, "late"},    // 9
		{store.ActionSessionOpen, "reused"},   // 10
		{store.ActionCommand, "reused"},       // 11
		{store.ActionSessionRefused, "other"}, // 12
	} {
		r := store.AuditRecord{Time: t0.Add(time.Duration(i) * time.Second), TenantID: 1, Action: r.action,
			ShellID: r.shell, Outcome: store.OutcomeOK}
		id, err := e.s.AppendAudit(e.ctx, r)
		wantErr(t, "AppendAudit", err, nil)
		ids = append(ids, id)
	}
	for _, tt := range []struct {
		shell  string
		tenant psgate.TenantID
		want   []int
	}{
		{"late", 0, []int{9, 5, 4, 2}},
		{"late", 1, []int{9, 5, 4, 2}},
		{"late", 2, nil},
		{"no-start", 0, []int{8, 1, 0}},
		{"reused", 0, []int{11, 10, 7, 6}},
		{"other", 1, []int{12, 3}},
		{"unknown", 0, nil},
	} {
		got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{ShellID: tt.shell, TenantID: tt.tenant})
		wantErr(t, "SearchAudit", err, nil)
		var gotIDs, wantIDs []int64
		for _, r := range got {
			gotIDs = append(gotIDs, r.ID)
		}
		for _, i := range tt.want {
			wantIDs = append(wantIDs, ids[i])
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("SearchAudit(shell %q, tenant %d) = records %v, want %v", tt.shell, tt.tenant, gotIDs, wantIDs)
		}
	}
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

// concurrentRecord is the distinct record of appender g's n-th append in
// testAuditConcurrent.
func concurrentRecord(t0 time.Time, g, n int) store.AuditRecord {
	marker := fmt.Sprintf("g%d-n%d", g, n)
	return store.AuditRecord{Time: t0.Add(time.Duration(g*1000+n) * time.Millisecond), TenantID: psgate.TenantID(g%3 + 1),
		UserID: psgate.UserID(g), UPN: "user" + marker + "@contoso.test", Action: store.ActionCommand, ShellID: shellID(g),
		CommandID: marker, Cmdlet: "Get-CsOnlineUser", Parameters: `{"Identity":"` + marker + `"}`,
		Outcome: store.OutcomeOK, Code: "c" + marker, Duration: time.Duration(n) * time.Microsecond,
		ClientAddr: "192.0.2." + strconv.Itoa(g%250), Detail: strings.Repeat(marker, 20)}
}

// Concurrent appends share transactions in both stores (group commit):
// each caller must get the ID of its own record, every record once.
func testAuditConcurrent(t *testing.T, e *env) {
	const appenders, each = 100, 10
	t0 := e.clock.Now()
	want := make([]store.AuditRecord, appenders*each)
	errs := make([]error, appenders)
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for n := range each {
				r := concurrentRecord(t0, g, n)
				r.ID, errs[g] = e.s.AppendAudit(e.ctx, r)
				if errs[g] != nil {
					return
				}
				want[g*each+n] = r
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		wantErr(t, "concurrent AppendAudit", err, nil)
	}
	slices.SortFunc(want, func(a, b store.AuditRecord) int { return cmp.Compare(b.ID, a.ID) }) // newest first
	for i := 1; i < len(want); i++ {
		if want[i].ID == want[i-1].ID {
			t.Fatalf("AppendAudit returned ID %d to two callers", want[i].ID)
		}
	}
	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{Limit: 2 * len(want)})
	wantErr(t, "SearchAudit", err, nil)
	if diff := diff(got, want); diff != "" {
		t.Errorf("SearchAudit after %d concurrent appends (-got +want):\n%s", len(want), diff)
	}
}

// A record the database refuses must fail alone, not the records of the
// callers whose appends shared its transaction. PostgreSQL refuses NUL in
// text; SQLite stores it, and then all must succeed.
func testAuditBadRecordFailsAlone(t *testing.T, e *env) {
	const good = 50
	t0 := e.clock.Now()
	ids := make([]int64, good)
	errs := make([]error, good)
	var badID int64
	var badErr error
	var wg sync.WaitGroup
	for g := range good {
		wg.Go(func() { ids[g], errs[g] = e.s.AppendAudit(e.ctx, concurrentRecord(t0, g, 0)) })
		if g == good/2 {
			wg.Go(func() {
				// PostgreSQL's timestamptz ends in 294276 AD; SQLite
				// stores milliseconds and takes it.
				badID, badErr = e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: 9, Action: store.ActionCommand,
					Time: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), Detail: "out of range"})
			})
		}
	}
	wg.Wait()
	for g, err := range errs {
		wantErr(t, fmt.Sprintf("AppendAudit(good record %d) beside a bad one", g), err, nil)
	}
	got, err := e.s.SearchAudit(e.ctx, store.AuditFilter{Limit: 1000})
	wantErr(t, "SearchAudit", err, nil)
	found := map[int64]bool{}
	for _, r := range got {
		found[r.ID] = true
	}
	for g, id := range ids {
		if !found[id] {
			t.Errorf("good record %d (ID %d) is missing", g, id)
		}
	}
	if badErr == nil && !found[badID] || len(got) != good+boolInt(badErr == nil) {
		t.Errorf("%d records stored; the bad one returned ID %d, error %v", len(got), badID, badErr)
	}
	t.Logf("the record out of range: ID %d, error %v", badID, badErr)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Close flushes the appends in flight and makes later appends fail,
// without a panic or a hang.
func testAuditAppendAfterClose(t *testing.T, e *env) {
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: 1, Action: store.ActionCommand})
		})
	}
	wantErr(t, "Close", e.s.Close(), nil)
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("AppendAudit() racing Close error = %v, want nil or ErrUnavailable", err)
		}
	}
	_, err := e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: 1, Action: store.ActionCommand})
	wantErr(t, "AppendAudit() after Close", err, store.ErrUnavailable)
}

// BenchmarkAppendAudit measures AppendAudit of a typical command record on
// s: one caller at a time, or about 100 concurrent callers (the capacity
// target of issue 16). It reports records/s beside ns/op.
func BenchmarkAppendAudit(b *testing.B, s store.Audit, parallel bool) {
	ctx := context.Background()
	rec := store.AuditRecord{TenantID: 1, UserID: 10, UPN: "alice@contoso.test", Action: store.ActionCommand,
		ShellID: shellID(1), CommandID: "c1", Cmdlet: "Get-CsOnlineUser",
		Parameters: `{"Identity":"bob@contoso.test","ResultSize":"Unlimited"}`, Outcome: store.OutcomeOK,
		Duration: 1500 * time.Microsecond, ClientAddr: "192.0.2.1"}
	b.ReportAllocs()
	if parallel {
		b.SetParallelism(max(1, (100+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.AppendAudit(ctx, rec); err != nil {
					b.Errorf("AppendAudit() error = %v", err)
					return
				}
			}
		})
	} else {
		for b.Loop() {
			if _, err := s.AppendAudit(ctx, rec); err != nil {
				b.Fatalf("AppendAudit() error = %v", err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
