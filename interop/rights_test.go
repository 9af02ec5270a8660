package interop

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

// openShell is a shell a user keeps open while an administrator changes
// their rights from another shell.
type openShell interface {
	// run runs a command line and returns the catalog code it failed
	// with ("" on success) and its error text.
	run(t *testing.T, line string) (code psgate.Code, text string)
}

// openWinRSShell runs command lines in one open WinRS shell (masterzen).
type openWinRSShell struct{ sh *winrm.Shell }

func openWinRS(t *testing.T, url, user, pw string) openShell {
	t.Helper()
	sh, err := masterzenClient(t, url, user, pw).CreateShell()
	if err != nil {
		t.Fatalf("open a WinRS shell as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = sh.Close() })
	return &openWinRSShell{sh: sh}
}

// run reports a failed WinRS command by its exit code and stderr: WinRS
// shows the message, not the code, so the caller matches the text.
func (w *openWinRSShell) run(t *testing.T, line string) (psgate.Code, string) {
	t.Helper()
	stdout, stderr, code := winrsRun(t, w.sh, line)
	if code != 0 {
		return "winrs.exit-1", stderr
	}
	return "", stdout
}

// winrsRun runs line in sh and waits for it to end.
func winrsRun(t *testing.T, sh *winrm.Shell, line string) (stdout, stderr string, code int) {
	t.Helper()
	cmd, err := sh.Execute(line)
	if err != nil {
		return "", err.Error(), -1
	}
	defer cmd.Close()
	errc := make(chan string, 1)
	go func() { errc <- readAll(cmd.Stderr) }()
	stdout = readAll(cmd.Stdout)
	stderr = <-errc
	cmd.Wait()
	return stdout, stderr, cmd.ExitCode()
}

// openPSRPShell runs command lines in one open runspace pool (psgate client).
type openPSRPShell struct{ s *client.Session }

func openPSRP(t *testing.T, url, user, pw string) openShell {
	t.Helper()
	s, err := client.Dial(context.Background(), client.Config{Endpoint: url, User: user, Password: pw})
	if err != nil {
		t.Fatalf("open a runspace pool as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return &openPSRPShell{s: s}
}

func (p *openPSRPShell) run(t *testing.T, line string) (psgate.Code, string) {
	t.Helper()
	res, err := p.s.Run(context.Background(), client.Script(line), client.RunOptions{})
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return psgate.CodeOf(err), err.Error()
	}
	return "", ""
}

// adminRun runs a line as the demo administrator in a shell of its own.
func adminRun(t *testing.T, url, line string) {
	t.Helper()
	stdout, stderr, code, err := masterzenClient(t, url, server.DemoAdmin, adminPassword).RunWithString(line, "")
	if err != nil || code != 0 {
		t.Fatalf("administrator ran %q: exit %d, %v\n%s%s", line, code, err, stdout, stderr)
	}
}

// shellKinds opens a shell of each protocol.
var shellKinds = []struct {
	name string
	open func(t *testing.T, url, user, pw string) openShell
}{
	{"winrs", openWinRS},
	{"psrp", openPSRP},
}

// refusedAs checks that a line run in an open shell was refused: with the
// catalog code over PSRP, with the code's message (which holds want) over
// WinRS.
func refusedAs(t *testing.T, sh openShell, line string, code psgate.Code, want string) {
	t.Helper()
	got, text := sh.run(t, line)
	if _, winrs := sh.(*openWinRSShell); winrs {
		if got == "" || !strings.Contains(text, want) {
			t.Fatalf("%q in the open shell: code %q, %q; want a refusal saying %q", line, got, text, want)
		}
		return
	}
	if got != code {
		t.Fatalf("%q in the open shell: code %q (%s), want %s", line, got, text, code)
	}
}

// TestDemotionReachesOpenShells: an administrator demoted by another
// administrator while a shell is open cannot, from that shell, grant
// themself the role back or revoke the other administrator; a role
// granted later applies to the same shell at once.
func TestDemotionReachesOpenShells(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	for _, kind := range shellKinds {
		t.Run(kind.name, func(t *testing.T) {
			upn := "demoted-" + kind.name + "@contoso.test"
			u := ts.addUser(t, upn, memberPassword, store.RoleTenantAdministrator)
			sh := kind.open(t, ts.httpURL, upn, memberPassword)
			if code, text := sh.run(t, "Get-CsTenant"); code != "" {
				t.Fatalf("Get-CsTenant before the demotion: %s %s", code, text)
			}

			adminRun(t, ts.httpURL, `Revoke-CsAdminRole -Identity `+upn+` -Role "Tenant Administrator"`)

			refusedAs(t, sh, `Grant-CsAdminRole -Identity `+upn+` -Role "Tenant Administrator"`,
				psgate.CodeNoAdminRole, "does not have permission to manage this tenant")
			refusedAs(t, sh, `Revoke-CsAdminRole -Identity `+server.DemoAdmin+` -Role "Tenant Administrator"`,
				psgate.CodeNoAdminRole, "does not have permission to manage this tenant")
			ctx := context.Background()
			if roles, err := ts.Store().RolesOf(ctx, u.TenantID, u.ID); err != nil || len(roles) != 0 {
				t.Fatalf("the demoted user's roles = %v, %v; want none", roles, err)
			}
			admin, err := ts.Store().UserByUPN(ctx, server.DemoAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if roles, err := ts.Store().RolesOf(ctx, admin.TenantID, admin.ID); err != nil || len(roles) == 0 {
				t.Fatalf("the other administrator's roles = %v, %v; want Tenant Administrator", roles, err)
			}

			// A lesser role granted now applies to the open shell, and
			// only its rights.
			adminRun(t, ts.httpURL, `Grant-CsAdminRole -Identity `+upn+` -Role "Tenant Reader"`)
			if code, text := sh.run(t, "Get-CsTenant"); code != "" {
				t.Fatalf("Get-CsTenant as Tenant Reader: %s %s", code, text)
			}
			refusedAs(t, sh, `Grant-CsAdminRole -Identity `+upn+` -Role "Tenant Administrator"`,
				psgate.CodeCommandNotFound, "is not recognized")
		})
	}
}

// TestDisabledUserRefusedInOpenShell: once the account is disabled in the
// store by another process (an operator's, here a second handle on the
// server's SQLite file, which the server's directory cache does not see
// writing), the next command in a shell opened before fails with the
// logon failure a new sign-in gets, although the shell's earlier command
// filled the cache.
func TestDisabledUserRefusedInOpenShell(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	ctx := context.Background()
	operator, err := sqlite.Open(ctx, filepath.Join(ts.dataDir, "psgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer operator.Close()
	for _, kind := range shellKinds {
		t.Run(kind.name, func(t *testing.T) {
			upn := "disabled-" + kind.name + "@contoso.test"
			u := ts.addUser(t, upn, memberPassword, store.RoleTenantReader)
			sh := kind.open(t, ts.httpURL, upn, memberPassword)
			for range 2 {
				if code, text := sh.run(t, "Get-CsTenant"); code != "" {
					t.Fatalf("Get-CsTenant before the account was disabled: %s %s", code, text)
				}
			}
			u.Enabled = false
			if _, err := operator.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			refusedAs(t, sh, "Get-CsTenant", psgate.CodeLogonFailed, "Logon failed for the user '"+upn+"'")
		})
	}
}

// TestDisablingUserClosesShells: Set-CsUser -Enabled $false ends the
// user's open shells: their slots are freed and the shells are closed.
func TestDisablingUserClosesShells(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	ctx := context.Background()
	upn := "closed@contoso.test"
	u := ts.addUser(t, upn, memberPassword, store.RoleTenantReader)
	winrsID, f := create(t, ts.httpURL, upn, memberPassword, "DIS-WINRS")
	if f != nil {
		t.Fatal(f)
	}
	pool := openPSRP(t, ts.httpURL, upn, memberPassword)
	if code, text := pool.run(t, "Get-CsTenant"); code != "" {
		t.Fatalf("Get-CsTenant before the account was disabled: %s %s", code, text)
	}
	adminRun(t, ts.httpURL, `Set-CsUser -Identity `+upn+` -Enabled $false`)
	if leases, err := ts.Store().Leases(ctx, store.LeaseFilter{TenantID: u.TenantID, UserID: u.ID}); err != nil || len(leases) != 0 {
		t.Fatalf("the disabled user's sessions = %+v, %v; want none", leases, err)
	}
	if n := ts.Gateway().ShellCount(); n != 0 {
		t.Errorf("%d shells still open after the only user holding shells was disabled", n)
	}
	refusedAs(t, pool, "Get-CsTenant", psgate.CodeSessionRemoved, "")
	_, _, body := soapPost(t, ts.httpURL, upn, memberPassword, envelope("DIS-CMD", actCommand, winrsID,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	// The owner reads who closed the shell, and so does the audit log.
	if !strings.Contains(body, `Code="admission.session-removed"`) || !strings.Contains(body, "The session "+winrsID+" was closed by "+server.DemoAdmin+".") {
		t.Fatalf("a command in the closed WinRS shell:\n%s", body)
	}
	closes, err := ts.Store().SearchAudit(ctx, store.AuditFilter{TenantID: u.TenantID, Action: store.ActionSessionClose, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range closes {
		if r.ShellID == winrsID {
			found = true
			// Set-CsUser freed the slots first: the detail says so after.
			if want := "reason: removed by " + server.DemoAdmin; !strings.HasPrefix(r.Detail, want) {
				t.Errorf("audit of the close: detail %q, want it to start with %q", r.Detail, want)
			}
		}
	}
	if !found {
		t.Errorf("no session-close audit record for %s", winrsID)
	}
}

// auditedRecords returns the command records of a cmdlet in the demo
// tenant, newest first.
func auditedRecords(t *testing.T, st store.Store, cmdlet string) []store.AuditRecord {
	t.Helper()
	ctx := context.Background()
	tn, err := st.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.SearchAudit(ctx, store.AuditFilter{TenantID: tn.ID, Action: store.ActionCommand})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRecord
	for _, r := range recs {
		if r.Cmdlet == cmdlet {
			out = append(out, r)
		}
	}
	return out
}

// TestCommandAuditedBeforeItRuns: a change is on the audit record while
// the command line that made it still runs, and the record is completed
// with the outcome once the command ended.
func TestCommandAuditedBeforeItRuns(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	for _, kind := range shellKinds {
		t.Run(kind.name, func(t *testing.T) {
			title := "Audited over " + kind.name
			sh := kind.open(t, ts.httpURL, server.DemoAdmin, adminPassword)
			done := make(chan struct{})
			go func() {
				defer close(done)
				sh.run(t, `Set-CsUser -Identity bob@contoso.test -Title "`+title+`"; Start-Sleep 5`)
			}()
			// While Start-Sleep runs, its record is in the log as
			// started, and Set-CsUser's, which ended before, holds its
			// outcome.
			var set, sleep store.AuditRecord
			readSet := func() {
				for _, r := range auditedRecords(t, ts.Store(), "Set-CsUser") {
					if strings.Contains(r.Parameters, title) {
						set = r
					}
				}
			}
			deadline := time.Now().Add(4 * time.Second)
			for sleep.ID == 0 {
				readSet()
				for _, r := range auditedRecords(t, ts.Store(), "Start-Sleep") {
					if set.ID != 0 && r.ShellID == set.ShellID && r.Outcome == store.OutcomeStarted {
						sleep = r
					}
				}
				if sleep.ID != 0 {
					// Read again: the Set-CsUser record read above may
					// predate its completion, which is durable before
					// Start-Sleep's record is written.
					readSet()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no started record of Start-Sleep while its command line runs (Set-CsUser's: %+v)", set)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if set.Outcome != store.OutcomeOK {
				t.Errorf("Set-CsUser's record while the next command runs = %+v, want outcome ok", set)
			}
			// Users see the same through the cmdlet, while the line
			// still runs.
			for cmdlet, want := range map[string]string{"Set-CsUser": "ok", "Start-Sleep": "started"} {
				filter := `Where-Object ShellId -eq "` + set.ShellID + `"`
				if cmdlet == "Set-CsUser" {
					filter = `Where-Object Parameters -like "*` + title + `*"`
				}
				stdout, _, code, err := masterzenClient(t, ts.httpURL, server.DemoAdmin, adminPassword).RunWithString(
					`Search-CsAdminAuditLog -Action command | Where-Object Cmdlet -eq `+cmdlet+` | `+filter+
						` | Select-Object -ExpandProperty Outcome`, "")
				if got := strings.Join(strings.Fields(stdout), " "); err != nil || code != 0 || got != want {
					t.Errorf("Search-CsAdminAuditLog for %s while the line runs: %q, exit %d, %v; want outcomes %q", cmdlet, got, code, err, want)
				}
			}
			select {
			case <-done:
				t.Fatal("the command line ended before the started record was checked; the test proves nothing")
			default:
			}
			<-done
			// Once the line ended, the same record holds Start-Sleep's
			// outcome: one record per command.
			var sleeps, sets []store.AuditRecord
			for _, r := range auditedRecords(t, ts.Store(), "Start-Sleep") {
				if r.ShellID == set.ShellID {
					sleeps = append(sleeps, r)
				}
			}
			for _, r := range auditedRecords(t, ts.Store(), "Set-CsUser") {
				if strings.Contains(r.Parameters, title) {
					sets = append(sets, r)
				}
			}
			if len(sleeps) != 1 || sleeps[0].ID != sleep.ID || sleeps[0].Outcome != store.OutcomeOK ||
				sleeps[0].Parameters != sleep.Parameters || sleeps[0].Duration < 4*time.Second {
				t.Errorf("Start-Sleep's records after the line = %+v, want record %d completed: ok, about 5 s", sleeps, sleep.ID)
			}
			if len(sets) != 1 {
				t.Errorf("Set-CsUser has %d records, want 1: %+v", len(sets), sets)
			}
		})
	}
}

// TestDemotionReachesOtherNode: two nodes share one store; an
// administrator demoted on node B cannot act from the shell they hold on
// node A, and an account disabled on node B cannot run the next command
// of its shell on node A, although node A's directory cache held both
// (each shell ran a command before the change).
func TestDemotionReachesOtherNode(t *testing.T) {
	dsn := postgresDSN(t)
	a := startServerWith(t, func(c *server.Config) { c.StoreDSN = dsn })
	b := startServerWith(t, func(c *server.Config) { c.StoreDSN = dsn })
	requireAdmission(t, a)
	for _, kind := range shellKinds {
		t.Run(kind.name, func(t *testing.T) {
			upn := "demoted-cluster-" + kind.name + "@contoso.test"
			a.addUser(t, upn, memberPassword, store.RoleTenantAdministrator)
			sh := kind.open(t, a.httpURL, upn, memberPassword)
			if code, text := sh.run(t, "Get-CsTenant"); code != "" {
				t.Fatalf("Get-CsTenant on node A before the demotion: %s %s", code, text)
			}
			adminRun(t, b.httpURL, `Revoke-CsAdminRole -Identity `+upn+` -Role "Tenant Administrator"`)
			refusedAs(t, sh, `Grant-CsAdminRole -Identity `+upn+` -Role "Tenant Administrator"`,
				psgate.CodeNoAdminRole, "does not have permission to manage this tenant")
		})
		t.Run(kind.name+"/disabled", func(t *testing.T) {
			upn := "disabled-cluster-" + kind.name + "@contoso.test"
			a.addUser(t, upn, memberPassword, store.RoleTenantReader)
			sh := kind.open(t, a.httpURL, upn, memberPassword)
			if code, text := sh.run(t, "Get-CsTenant"); code != "" {
				t.Fatalf("Get-CsTenant on node A before the account was disabled: %s %s", code, text)
			}
			adminRun(t, b.httpURL, `Set-CsUser -Identity `+upn+` -Enabled $false`)
			refusedAs(t, sh, "Get-CsTenant", psgate.CodeLogonFailed, "Logon failed for the user '"+upn+"'")
		})
	}
}

// TestStartedRecordSurvivesSIGKILL: a psgate process killed while a
// command runs leaves that command's record started (and the records of
// the commands before it on the line complete) in the audit log.
func TestStartedRecordSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the psgate binary")
	}
	bin, data, addr := psgateBinary(t)
	url := "http://" + addr + "/wsman"

	first := startPsgate(t, bin, data, addr)
	sh, err := masterzenClient(t, url, server.DemoAdmin, adminPassword).CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Execute(`Set-CsUser -Identity bob@contoso.test -Title "Before the kill"; Start-Sleep 30`); err != nil {
		t.Fatal(err)
	}
	search := `Search-CsAdminAuditLog -Action command | Where-Object Cmdlet -eq Start-Sleep | Select-Object -ExpandProperty Outcome`
	deadline := time.Now().Add(10 * time.Second)
	for {
		stdout, _, code, err := masterzenClient(t, url, server.DemoAdmin, adminPassword).RunWithString(search, "")
		if err == nil && code == 0 && strings.TrimSpace(stdout) == "started" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Start-Sleep has no started record while it runs: %q, exit %d, %v", stdout, code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	second := startPsgate(t, bin, data, addr)
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	for cmdlet, want := range map[string]string{"Start-Sleep": "started", "Set-CsUser": "ok"} {
		stdout, stderr, code, err := masterzenClient(t, url, server.DemoAdmin, adminPassword).RunWithString(
			`Search-CsAdminAuditLog -Action command | Where-Object Cmdlet -eq `+cmdlet+` | Select-Object -ExpandProperty Outcome`, "")
		if got := strings.Join(strings.Fields(stdout), " "); err != nil || code != 0 || got != want {
			t.Errorf("after the kill, %s records: %q (exit %d, %v, %s), want outcomes %q", cmdlet, got, code, err, stderr, want)
		}
	}
}
