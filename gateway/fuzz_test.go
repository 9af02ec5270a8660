package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/admission"
	"github.com/psgate/psgate/cmdlets"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

// fuzzPassword is the one password the test authenticator accepts.
const fuzzPassword = "pw"

// fixedAuth accepts Basic credentials of known users with fuzzPassword.
type fixedAuth map[string]psgate.Principal

func (a fixedAuth) Authenticate(_ context.Context, r *http.Request) (psgate.Principal, error) {
	user, pw, ok := r.BasicAuth()
	if !ok {
		return psgate.Principal{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	p, known := a[user]
	if !known || pw != fuzzPassword {
		return psgate.Principal{}, psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": user})
	}
	return p, nil
}

// world is a store with two tenants, a real admitter and catalog, shared by
// the gateways a test builds.
type world struct {
	st        store.Store
	adm       *admission.Admitter
	catalog   *engine.Catalog
	auth      fixedAuth
	templates [][]byte
	names     []string
}

// fuzzUsers are the users of the world: alice and bob of one tenant,
// mallory of another.
var fuzzUsers = []string{"alice", "mallory", "bob"}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	ctx := context.Background()
	// A fixed store clock: the node's registration never runs out and the
	// creation rate is unlimited below.
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return epoch }
	db := sqlitetest.Open(tb, sqlite.Options{Now: now})
	w := &world{st: db, auth: fixedAuth{}}
	pol := store.DefaultPolicy()
	pol.MaxShellCreationsPerMinute = 0
	pol.MaxShellsPerUser = 4
	for _, tn := range []struct {
		name  string
		users []string
	}{
		{"contoso", []string{"alice", "bob"}},
		{"fabrikam", []string{"mallory"}},
	} {
		t, err := db.CreateTenant(ctx, store.Tenant{Name: tn.name, Domain: tn.name + ".test", DisplayName: tn.name, Policy: pol})
		if err != nil {
			tb.Fatal(err)
		}
		role, err := db.RoleByName(ctx, t.ID, store.RoleTenantAdministrator)
		if err != nil {
			tb.Fatal(err)
		}
		for _, name := range tn.users {
			upn := name + "@" + tn.name + ".test"
			u, err := db.CreateUser(ctx, store.User{TenantID: t.ID, UPN: upn, DisplayName: name, Enabled: true})
			if err != nil {
				tb.Fatal(err)
			}
			if err := db.Assign(ctx, store.Assignment{TenantID: t.ID, UserID: u.ID, RoleID: role.ID, AssignedBy: "test"}); err != nil {
				tb.Fatal(err)
			}
			w.auth[name] = psgate.Principal{TenantID: t.ID, Tenant: t.Name, UserID: u.ID, UPN: upn, Method: psgate.AuthPassword}
		}
	}
	var err error
	w.adm, err = admission.New(admission.Config{Store: db, NodeName: "fuzz:5985", Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.adm.Register(ctx); err != nil {
		tb.Fatal(err)
	}
	w.catalog = engine.NewCatalog()
	if err := builtin.Register(w.catalog); err != nil {
		tb.Fatal(err)
	}
	if err := cmdlets.Register(w.catalog, db); err != nil {
		tb.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join("..", "wsman", "testdata", "requests", "*.xml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("request fixtures: %v (%d found)", err, len(paths))
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		w.templates = append(w.templates, b)
		w.names = append(w.names, filepath.Base(p))
	}
	w.addPipelines(tb)
	return w
}

// addPipelines adds requests the fixtures lack: PSRP Commands whose
// CREATE_PIPELINE runs, and a Send of pipeline input.
func (w *world) addPipelines(tb testing.TB) {
	tb.Helper()
	var cmdTmpl, sendTmpl []byte
	for i, n := range w.names {
		switch n {
		case "pypsrp-psrp-command.xml":
			cmdTmpl = w.templates[i]
		case "pypsrp-psrp-send.xml":
			sendTmpl = w.templates[i]
		}
	}
	var rpid, pid psrp.GUID
	with := func(tmpl []byte, name, payload string) {
		body := rePayload.ReplaceAllFunc(tmpl, func(m []byte) []byte {
			sub := rePayload.FindSubmatch(m)
			return concat(sub[1], []byte(payload), sub[3])
		})
		w.templates = append(w.templates, body)
		w.names = append(w.names, name)
	}
	for _, p := range []struct {
		name string
		cp   psrp.CreatePipeline
	}{
		{"synthetic-psrp-input.xml", psrp.CreatePipeline{PowerShell: psrp.PowerShell{Commands: []psrp.Command{{Cmd: "Write-Output"}}}}},
		{"synthetic-psrp-users.xml", psrp.CreatePipeline{NoInput: true, PowerShell: psrp.PowerShell{Commands: []psrp.Command{
			{Cmd: "Get-CsOnlineUser"}, {Cmd: "Select-Object", Args: []psrp.Arg{{Name: "Property", Value: "UserPrincipalName"}}}}}}},
		{"synthetic-psrp-sleep.xml", psrp.CreatePipeline{NoInput: true, PowerShell: psrp.PowerShell{Commands: []psrp.Command{
			{Cmd: "Start-Sleep", Args: []psrp.Arg{{Name: "Seconds", Value: int32(30)}}}}}}},
	} {
		m, err := psrp.NewCreatePipeline(rpid, pid, p.cp)
		if err != nil {
			tb.Fatal(err)
		}
		with(cmdTmpl, p.name, fragments(m))
	}
	in, err := psrp.NewPipelineInput(rpid, pid, "hello")
	if err != nil {
		tb.Fatal(err)
	}
	with(sendTmpl, "synthetic-psrp-send-input.xml", fragments(in, in, psrp.NewEndOfPipelineInput(rpid, pid)))
}

// fragments encodes client messages as the base64 PSRP fragments of a
// creationXml, Arguments or Send stream.
func fragments(msgs ...psrp.Message) string {
	var fr psrp.Fragmenter
	var b []byte
	for _, m := range msgs {
		for _, f := range fr.Fragment(m.Encode()) {
			b = f.AppendEncode(b)
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}

// gateway builds a fresh gateway on the world, with short Receive waits;
// opts adjust its configuration.
func (w *world) gateway(tb testing.TB, opts ...func(*gateway.Config)) *gateway.Gateway {
	tb.Helper()
	cfg := gateway.Config{
		Auth:            w.auth,
		Admit:           w.adm,
		Audit:           w.adm,
		Catalog:         w.catalog,
		MaxEnvelopeSize: 64 << 10,
		MaxReceiveWait:  40 * time.Millisecond,
		MaxOutputBuffer: 64 << 10,
	}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := gateway.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// leases counts the quota leases the store holds.
func (w *world) leases(tb testing.TB) int {
	tb.Helper()
	ls, err := w.st.Leases(context.Background(), store.LeaseFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return len(ls)
}

// post sends one request to g as user ("" sends no credentials).
func post(g http.Handler, user string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://gw.test/wsman", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if user != "" {
		r.SetBasicAuth(user, fuzzPassword)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, r)
	return rec
}

// checkResponse asserts the promise on one response: a known status and a
// well-formed body.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch rec.Code {
	case http.StatusOK, http.StatusUnauthorized, http.StatusInternalServerError, http.StatusServiceUnavailable:
		if err := wellFormed(rec.Body.Bytes()); err != nil {
			t.Fatalf("status %d with a body that is not XML: %v\n%s", rec.Code, err, rec.Body.Bytes())
		}
	case http.StatusRequestEntityTooLarge:
		if rec.Body.Len() == 0 {
			t.Fatal("413 without an explanation")
		}
	default:
		t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.Bytes())
	}
}

func wellFormed(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty body")
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

var (
	reShellSel   = regexp.MustCompile(`(<[A-Za-z0-9]*:?Selector Name="ShellId">)([^<]*)(<)`)
	reCreateID   = regexp.MustCompile(`(<rsp:Shell\b[^>]*\bShellId=")([^"]*)(")`)
	reNewCommand = regexp.MustCompile(`(<rsp:CommandLine\b[^>]*\bCommandId=")([^"]*)(")`)
	reCommandAtt = regexp.MustCompile(`(CommandId=")([^"]*)(")`)
	reCommandEl  = regexp.MustCompile(`(<rsp:CommandId>)([^<]*)(<)`)
	rePayload    = regexp.MustCompile(`(<(?:rsp:Stream|rsp:Arguments|creationXml|connectXml)\b[^>]*>)([A-Za-z0-9+/=\s]{8,})(<)`)
	reGotShell   = regexp.MustCompile(`<rsp:ShellId>([^<]+)</rsp:ShellId>`)
	reGotCommand = regexp.MustCompile(`<rsp:CommandId>([^<]+)</rsp:CommandId>`)
)

// cursor hands out the fuzz data bytes.
type cursor struct{ b []byte }

func (c *cursor) byte() byte {
	if len(c.b) == 0 {
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) chunk() []byte {
	n := int(c.byte())
	n = min(n, len(c.b))
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

// session is the state of one fuzz input: the shells and commands seen.
type session struct {
	owner    map[string]string // shell id -> user
	shells   []string
	commands []string
	creates  int
}

func pick(list []string, i byte, fallback string) string {
	if len(list) == 0 {
		return fallback
	}
	return list[int(i)%len(list)]
}

// mutate turns a fixture into a request on the session's shells, with its
// PSRP/stream payloads kept, replaced or damaged as data says.
func (s *session) mutate(tmpl []byte, c *cursor, n int) []byte {
	body := tmpl
	sel := c.byte()
	body = reShellSel.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := reShellSel.FindSubmatch(m)
		return concat(sub[1], []byte(pick(s.shells, sel, string(sub[2]))), sub[3])
	})
	body = reCreateID.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := reCreateID.FindSubmatch(m)
		s.creates++
		return concat(sub[1], fmt.Appendf(nil, "0000%04X-0000-4000-8000-%012X", n, s.creates), sub[3])
	})
	cmd := c.byte()
	repl := func(re *regexp.Regexp) func([]byte) []byte {
		return func(m []byte) []byte {
			sub := re.FindSubmatch(m)
			return concat(sub[1], []byte(pick(s.commands, cmd, string(sub[2]))), sub[3])
		}
	}
	if cmd&1 == 0 {
		body = reNewCommand.ReplaceAllFunc(body, func(m []byte) []byte {
			sub := reNewCommand.FindSubmatch(m)
			return concat(sub[1], fmt.Appendf(nil, "0000%04X-0000-4000-9000-%012X", n, len(s.commands)), sub[3])
		})
	} else {
		body = reCommandAtt.ReplaceAllFunc(body, repl(reCommandAtt))
		body = reCommandEl.ReplaceAllFunc(body, repl(reCommandEl))
	}
	mode := c.byte()
	body = rePayload.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := rePayload.FindSubmatch(m)
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(sub[2])), ""))
		if err != nil {
			return m
		}
		switch mode % 4 {
		case 1: // fragments from the fuzzer
			raw = c.chunk()
		case 2: // one damaged byte
			if len(raw) > 0 {
				raw = bytes.Clone(raw)
				raw[int(c.byte())%len(raw)] ^= c.byte() | 1
			}
		case 3: // truncated
			raw = raw[:int(c.byte())%(len(raw)+1)]
		}
		return concat(sub[1], []byte(base64.StdEncoding.EncodeToString(raw)), sub[3])
	})
	return body
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// run plays one fuzz input against g.
func (w *world) run(t *testing.T, g *gateway.Gateway, ops, data []byte) *session {
	s := &session{owner: map[string]string{}}
	c := &cursor{b: data}
	for n, op := range ops[:min(len(ops), 12)] {
		user := fuzzUsers[int(op&3)%len(fuzzUsers)]
		if op&3 == 3 {
			user = ""
		}
		var body []byte
		switch k := int(op >> 2); {
		case k == 0:
			body = c.chunk()
		default:
			body = s.mutate(w.templates[k%len(w.templates)], c, n)
		}
		rec := post(g, user, body)
		checkResponse(t, rec)
		if os.Getenv("FUZZDEBUG") != "" {
			t.Logf("%d %s: %d %s", op, user, rec.Code, regexp.MustCompile(`<s:Text[^>]*>[^<]*|Action[^<]*`).FindAllString(rec.Body.String(), 3))
		}
		if rec.Code != http.StatusOK {
			continue
		}
		resp := rec.Body.String()
		// No answer to one user names another's open shell.
		for id, owner := range s.owner {
			if owner != user && strings.Contains(resp, id) {
				t.Fatalf("%s was shown shell %s of %s:\n%s", user, id, owner, resp)
			}
		}
		if strings.Contains(resp, "/CreateResponse") {
			if m := reGotShell.FindStringSubmatch(resp); m != nil {
				s.owner[m[1]] = user
				s.shells = append(s.shells, m[1])
			}
		}
		if strings.Contains(resp, "/CommandResponse") {
			if m := reGotCommand.FindStringSubmatch(resp); m != nil {
				s.commands = append(s.commands, m[1])
			}
		}
	}
	return s
}

// deleteBody is a WinRS/PSRP Delete for shell id.
func deleteBody(id string) []byte {
	return fmt.Appendf(nil, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><wsa:To>http://gw.test/wsman</wsa:To><wsman:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</wsman:ResourceURI><wsa:ReplyTo><wsa:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo><wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete</wsa:Action><wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize><wsa:MessageID>uuid:0A0A0A0A-0000-4000-8000-000000000001</wsa:MessageID><wsman:OperationTimeout>PT20S</wsman:OperationTimeout><wsman:SelectorSet><wsman:Selector Name="ShellId">%s</wsman:Selector></wsman:SelectorSet></s:Header><s:Body></s:Body></s:Envelope>`, id)
}

// settle closes every shell of s (Delete by its owner, then Shutdown) and
// checks that nothing is left: no shell, no lease, no goroutine.
func (w *world) settle(t *testing.T, g *gateway.Gateway, s *session, baseline int) {
	t.Helper()
	for _, id := range s.shells {
		rec := post(g, s.owner[id], deleteBody(id))
		checkResponse(t, rec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := g.ShellCount(); n != 0 {
		t.Fatalf("%d shells open after shutdown", n)
	}
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d quota leases held after every shell closed", n)
	}
	waitGoroutines(t, baseline)
}

// waitGoroutines waits up to a few seconds for the goroutine count to
// come back to baseline.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	const slack = 2
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+slack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, baseline %d:\n%s", n, baseline, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzServeHTTP drives a real gateway with sequences of requests built
// from the recorded client requests: each byte of ops picks a user and a
// request (or raw fuzz bytes as the body), and data addresses the shells
// opened so far and replaces or damages their PSRP fragments and streams.
func FuzzServeHTTP(f *testing.F) {
	w := newWorld(f)
	idx := map[string]byte{}
	for i, n := range w.names {
		idx[n] = byte(i)
	}
	op := func(name string, user byte) byte {
		// k%len(templates) == index, with k >= 1.
		k := int(idx[name])
		if k == 0 {
			k = len(w.templates)
		}
		return byte(k<<2) | user
	}
	// PSRP sessions: create, pipelines with input and output, receive,
	// signal, another tenant probing, delete.
	f.Add([]byte{op("pypsrp-psrp-create.xml", 0), op("pypsrp-psrp-receive-pool.xml", 0), op("synthetic-psrp-input.xml", 0),
		op("synthetic-psrp-send-input.xml", 0), op("pypsrp-winrs-receive.xml", 0), op("pypsrp-winrs-receive.xml", 0),
		op("pypsrp-psrp-signal-terminate.xml", 0)},
		[]byte{0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0})
	f.Add([]byte{op("pypsrp-psrp-create.xml", 0), op("synthetic-psrp-users.xml", 0), op("synthetic-psrp-sleep.xml", 0),
		op("pypsrp-winrs-receive.xml", 1), op("pypsrp-enumerate-commands.xml", 1), op("pypsrp-psrp-signal-ctrlc.xml", 1),
		op("pypsrp-disconnect.xml", 0), op("pypsrp-connect-pool.xml", 0), op("pypsrp-winrs-receive.xml", 0)},
		[]byte{0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0})
	// A WinRS session used by another tenant.
	f.Add([]byte{op("pywinrm-create.xml", 0), op("pywinrm-command.xml", 0), op("pywinrm-receive.xml", 1),
		op("pypsrp-enumerate-shells.xml", 1), op("pypsrp-get-shell.xml", 1), op("pywinrm-delete.xml", 1)},
		[]byte{0, 1, 0, 0, 1, 0, 0, 1, 0})
	// Damaged fragments.
	f.Add([]byte{op("powershell-create.xml", 0), op("pypsrp-psrp-command.xml", 0), op("pypsrp-psrp-send.xml", 0)},
		[]byte{0, 0, 2, 7, 0x40, 0, 1, 3, 5, 0, 1, 1, 4, 0, 0, 0, 0})
	// Raw bodies.
	f.Add([]byte{0, 1, 3}, []byte("\x10<s:Envelope></s:Envelope>\x04<a/>"))
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		baseline := runtime.NumGoroutine()
		g := w.gateway(t)
		s := w.run(t, g, ops, data)
		w.settle(t, g, s, baseline)
	})
}
