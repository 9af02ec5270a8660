package gateway_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/psrp"
)

// openPoolAs opens PSRP runspace pool id as user and returns the ShellId
// the server answered.
func openPoolAs(t *testing.T, w *world, g http.Handler, user, id string) string {
	t.Helper()
	rpid, err := psrp.ParseGUID(id)
	if err != nil {
		t.Fatal(err)
	}
	initMsg, err := psrp.NewInitRunspacePool(rpid, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	body := replaceGroup(reCreateID, w.template(t, "pypsrp-psrp-create.xml"), id)
	body = replaceGroup(rePayload, body, fragments(psrp.NewClientSessionCapability(rpid), initMsg))
	got := expect(t, g, user, body, http.StatusOK, "CreateResponse")
	m := reAnsweredID.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no ShellId in %s", got)
	}
	return strings.ToUpper(m[1])
}

var reAnsweredID = regexp.MustCompile(`<rsp:ShellId>([^<]+)</rsp:ShellId>`)

// poolSend is a pool-level Send of shell id carrying raw fragments.
func poolSend(t *testing.T, w *world, id string, frags []byte) []byte {
	body := reStreamCmd.ReplaceAll(onShell(w.template(t, "pypsrp-psrp-send.xml"), id, ""), []byte("$1"))
	return replaceGroup(rePayload, body, base64.StdEncoding.EncodeToString(frags))
}

// One user opens shells up to the quota and starts messages it never
// finishes, in every shell, until refused: the gateway holds no more than
// the budgets, names the budget in the refusal, closes the shell that
// passed it (releasing its slot), and gets every byte back when the
// shells close. Another tenant's user works meanwhile.
func TestPartialBudgetBoundsHalfSentMessages(t *testing.T) {
	w := newWorld(t)
	lim := gateway.PartialBudget{Shell: 256 << 10, User: 512 << 10, Tenant: 1 << 20, Process: 4 << 20}
	g := w.gateway(t, func(c *gateway.Config) { c.PartialBudget = lim })

	const blob = 30 << 10
	refusals := map[string]int{}
	var ids []string
	for s := range 4 { // alice's MaxShellsPerUser
		id := openPoolAs(t, w, g, "alice", fmt.Sprintf("DDDDDDDD-0000-4000-8000-%012d", s))
		ids = append(ids, id)
		// The first shell sends until refused; the others stop short of
		// their own budget, so that together they reach alice's.
		for obj := uint64(100); s == 0 || obj < 108; obj++ {
			frag := psrp.Fragment{ObjectID: obj, Start: true, Blob: make([]byte, blob)}.AppendEncode(nil)
			rec := post(g, "alice", poolSend(t, w, id, frag))
			checkResponse(t, rec)
			if u := g.PartialUsage(); u.Users[gateway.UserRef{TenantID: w.auth["alice"].TenantID, UserID: w.auth["alice"].UserID}] > lim.User || u.Bytes > lim.Process {
				t.Fatalf("accounted %+v past the budgets %+v", u, lim)
			}
			if rec.Code == http.StatusOK {
				continue
			}
			body := rec.Body.String()
			if !strings.Contains(body, string(psgate.CodePartialBudget)) {
				t.Fatalf("shell %d refused with %d %s, want %s", s, rec.Code, body, psgate.CodePartialBudget)
			}
			switch {
			case strings.Contains(body, "per-shell budget"):
				refusals["shell"]++
			case strings.Contains(body, "per-user budget"):
				refusals["user"]++
			default:
				t.Fatalf("unexpected budget in %s", body)
			}
			break
		}
		// Meanwhile mallory, of another tenant, opens a shell and runs a
		// command.
		mid := openPoolAs(t, w, g, "mallory", fmt.Sprintf("AAAAAAAA-0000-4000-8000-%012d", s))
		cmd := onShell(w.template(t, "synthetic-psrp-users.xml"), mid, fmt.Sprintf("CCCCCCCC-0000-4000-8000-%012d", s))
		expect(t, g, "mallory", cmd, http.StatusOK, "CommandResponse")
		expect(t, g, "mallory", deleteBody(mid), http.StatusOK, "DeleteResponse")
	}
	// The first shell hit its own budget and was closed; the last hit
	// alice's user budget, which her two other shells held most of.
	if refusals["shell"] == 0 || refusals["user"] == 0 {
		t.Fatalf("refusals %v, want both per-shell and per-user", refusals)
	}
	u := g.PartialUsage()
	t.Logf("after the attack: %+v", u)
	if u.Peak > lim.User+lim.Shell || u.Bytes > lim.User {
		t.Fatalf("held %d bytes (peak %d) for one user, budget %d", u.Bytes, u.Peak, lim.User)
	}
	if u.Refused["shell"] == 0 || u.Refused["user"] == 0 {
		t.Fatalf("refusal counters %v", u.Refused)
	}
	// A refused shell answers its owner with the reason.
	expect(t, g, "alice", poolSend(t, w, ids[0], nil), http.StatusInternalServerError, string(psgate.CodePartialBudget))

	for _, id := range ids {
		post(g, "alice", deleteBody(id))
	}
	if u := g.PartialUsage(); u.Bytes != 0 || u.Shells != 0 || len(u.Users) != 0 || len(u.Tenants) != 0 {
		t.Fatalf("after closing every shell the accountant holds %+v", u)
	}
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d quota leases held after the shells closed", n)
	}
}

// Pipelines' partly received Arguments and waiting input are charged too,
// and given back when the pipeline or the shell goes away.
func TestPartialBudgetCoversPipelines(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.PartialBudget = gateway.PartialBudget{Shell: 100 << 10} })
	id := openPoolAs(t, w, g, "alice", "DDDDDDDD-0000-4000-8000-000000000099")
	var refused bool
	for n := range 10 {
		body := onShell(w.template(t, "pypsrp-psrp-command.xml"), id, fmt.Sprintf("BBBBBBBB-0000-4000-8000-%012d", n))
		frag := psrp.Fragment{ObjectID: 1, Start: true, Blob: make([]byte, 30<<10)}.AppendEncode(nil)
		body = replaceGroup(rePayload, body, base64.StdEncoding.EncodeToString(frag))
		rec := post(g, "alice", body)
		checkResponse(t, rec)
		if rec.Code != http.StatusOK {
			if !strings.Contains(rec.Body.String(), "per-shell budget") {
				t.Fatalf("pipeline %d: %d %s", n, rec.Code, rec.Body)
			}
			refused = true
			break
		}
		if got := g.PartialUsage().Bytes; got > 100<<10 {
			t.Fatalf("holding %d bytes past the 100 KiB shell budget", got)
		}
	}
	if !refused {
		t.Fatal("ten half-sent pipelines of 30 KiB fit a 100 KiB budget")
	}
	if u := g.PartialUsage(); u.Bytes != 0 {
		t.Fatalf("the refused shell still holds %+v", u)
	}
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d leases held after the budget closed the shell", n)
	}
}

// Creating a shell with the ShellId of another tenant's live shell must not
// tell the caller that the id exists: the Create succeeds as for a free
// id, and the owner's shell is untouched.
func TestCreateWithForeignShellIDRevealsNothing(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	const id = "DDDDDDDD-0000-4000-8000-00000000ABCD"
	if got := openPoolAs(t, w, g, "alice", id); got != id {
		t.Fatalf("alice's shell got id %s, want %s", got, id)
	}
	other := openPoolAs(t, w, g, "mallory", id)
	if other == id {
		t.Fatal("mallory was given alice's shell id")
	}
	// Each addresses only their own shell.
	expect(t, g, "mallory", deleteBody(id), http.StatusInternalServerError, string(psgate.CodeShellNotFound))
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	expect(t, g, "mallory", deleteBody(other), http.StatusOK, "DeleteResponse")
	// The owner's own second Create with its live id is still told.
	openPoolAs(t, w, g, "alice", id)
	body := replaceGroup(reCreateID, w.template(t, "pypsrp-psrp-create.xml"), id)
	expect(t, g, "alice", body, http.StatusInternalServerError, "already in use")
}
