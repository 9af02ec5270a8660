package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/admission"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/xpress"
)

// template returns the named request fixture (or synthetic request).
func (w *world) template(tb testing.TB, name string) []byte {
	tb.Helper()
	for i, n := range w.names {
		if n == name {
			return w.templates[i]
		}
	}
	tb.Fatalf("no request template %s", name)
	return nil
}

func replaceGroup(re *regexp.Regexp, body []byte, value string) []byte {
	return re.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := re.FindSubmatch(m)
		return concat(sub[1], []byte(value), sub[len(sub)-1])
	})
}

var (
	reWinRSCommand = regexp.MustCompile(`(<rsp:Command>)[^<]*(</rsp:Command>)`)
	reArguments    = regexp.MustCompile(`<rsp:Arguments>[^<]*</rsp:Arguments>`)
	reStreamCmd    = regexp.MustCompile(`(<rsp:Stream)\s+CommandId="[^"]*"`)
	reSendBody     = regexp.MustCompile(`(?s)(<rsp:Send>).*(</rsp:Send>)`)
	reDisconnect   = regexp.MustCompile(`<rsp:Disconnect\s*/>`)
)

// onShell points a request at shell id (and, when cmd is not "", at that
// command).
func onShell(body []byte, id, cmd string) []byte {
	body = replaceGroup(reShellSel, body, id)
	if cmd != "" {
		body = replaceGroup(reCommandAtt, body, cmd)
		body = replaceGroup(reCommandEl, body, cmd)
	}
	return body
}

// expect posts body and checks the status and that the body names want
// (a catalog code or an action), returning the response.
func expect(t *testing.T, g http.Handler, user string, body []byte, status int, want string) string {
	t.Helper()
	rec := post(g, user, body)
	checkResponse(t, rec)
	got := rec.Body.String()
	if rec.Code != status || !strings.Contains(got, want) {
		t.Fatalf("got %d %s, want %d with %q", rec.Code, got, status, want)
	}
	return got
}

// openPool opens PSRP runspace pool id as alice, announcing maxRunspaces.
func openPool(t *testing.T, w *world, g http.Handler, id string, maxRunspaces int32) {
	t.Helper()
	rpid, err := psrp.ParseGUID(id)
	if err != nil {
		t.Fatal(err)
	}
	initMsg, err := psrp.NewInitRunspacePool(rpid, 1, maxRunspaces)
	if err != nil {
		t.Fatal(err)
	}
	body := replaceGroup(reCreateID, w.template(t, "pypsrp-psrp-create.xml"), id)
	body = replaceGroup(rePayload, body, fragments(psrp.NewClientSessionCapability(rpid), initMsg))
	expect(t, g, "alice", body, http.StatusOK, "CreateResponse")
}

// pipeline starts the synthetic pipeline tmpl as command cmd of shell id.
func pipeline(t *testing.T, w *world, g http.Handler, tmpl, id, cmd string) *response {
	t.Helper()
	body := onShell(w.template(t, tmpl), id, cmd)
	rec := post(g, "alice", body)
	checkResponse(t, rec)
	return &response{code: rec.Code, body: rec.Body.String()}
}

// response is the part of a response the tests look at.
type response struct {
	code int
	body string
}

// A Command that arrives while Shutdown waits for running commands is
// refused: counting it in would race the WaitGroup's Wait (a panic in the
// shutdown path) and keep the server waiting for work it accepted late.
func TestCommandDuringShutdownIsRefused(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	sleep := replaceGroup(reWinRSCommand, onShell(w.template(t, "pywinrm-command.xml"), id, ""), "Start-Sleep -Seconds 30")
	sleep = reArguments.ReplaceAll(sleep, nil)
	expect(t, g, "alice", sleep, http.StatusOK, "CommandResponse")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- g.Shutdown(ctx)
	}()
	// Shutdown has begun once Create is refused.
	deadline := time.Now().Add(5 * time.Second)
	for post(g, "alice", w.template(t, "pywinrm-create.xml")).Code == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("Create still accepted after Shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	expect(t, g, "alice", sleep, http.StatusServiceUnavailable, string(psgate.CodeShuttingDown))

	// Closing the shell stops its command, and Shutdown completes.
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the last shell closed")
	}
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d leases held after shutdown", n)
	}
}

// gatedAdmitter holds every admitted Create until released.
type gatedAdmitter struct {
	*admission.Admitter
	admitted, release chan struct{}
}

func (a gatedAdmitter) Admit(ctx context.Context, req psgate.ShellRequest) (psgate.Grant, engine.Authorizer, error) {
	grant, auth, err := a.Admitter.Admit(ctx, req)
	a.admitted <- struct{}{}
	<-a.release
	return grant, auth, err
}

// A Create admitted while Shutdown closes every shell must not leave a
// shell (and its quota slot) that nothing will ever close.
func TestCreateRacingShutdownReleasesSlot(t *testing.T) {
	w := newWorld(t)
	gate := gatedAdmitter{Admitter: w.adm, admitted: make(chan struct{}), release: make(chan struct{})}
	g := w.gateway(t, func(c *gateway.Config) { c.Admit = gate })
	resp := make(chan *response, 1)
	go func() {
		rec := post(g, "alice", w.template(t, "pywinrm-create.xml"))
		resp <- &response{code: rec.Code, body: rec.Body.String()}
	}()
	<-gate.admitted
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(gate.release)
	got := <-resp
	if got.code == http.StatusOK || !strings.Contains(got.body, string(psgate.CodeShuttingDown)) {
		t.Fatalf("Create during shutdown: got %d %s, want a shutting-down fault", got.code, got.body)
	}
	if n := g.ShellCount(); n != 0 {
		t.Fatalf("%d shells open after shutdown", n)
	}
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d quota leases held after shutdown", n)
	}
}

// A runspace pool holds a bounded number of pipelines, whatever
// MaxRunspaces the client announced and whether or not the pipelines
// finished: each holds up to MaxOutputBuffer of output nobody collected.
func TestPoolPipelinesAreBounded(t *testing.T) {
	tests := []struct {
		name         string
		maxRunspaces int32
		pipeline     string
	}{
		{"running pipelines, huge MaxRunspaces", 1 << 30, "synthetic-psrp-sleep.xml"},
		{"finished pipelines never received", 1, "synthetic-psrp-users.xml"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			g := w.gateway(t)
			id := fmt.Sprintf("AAAAAAAA-0000-4000-8000-%012d", i)
			openPool(t, w, g, id, tt.maxRunspaces)
			accepted := 0
			var refused *response
			for n := range 40 {
				r := pipeline(t, w, g, tt.pipeline, id, fmt.Sprintf("BBBBBBBB-0000-4000-8000-%012d", n))
				if r.code != http.StatusOK {
					refused = r
					break
				}
				accepted++
				time.Sleep(time.Millisecond)
			}
			if refused == nil || !strings.Contains(refused.body, string(psgate.CodeTooManyCommands)) {
				t.Fatalf("accepted %d pipelines without a too-many-commands refusal (last: %+v)", accepted, refused)
			}
			if accepted > 30 {
				t.Fatalf("accepted %d pipelines, want at most 30", accepted)
			}
			expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
		})
	}
}

// A client that keeps sending runspace pool messages without receiving the
// answers is refused once MaxOutputBuffer is queued, and may go on after
// receiving them.
func TestPoolStreamIsBounded(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	const id = "CCCCCCCC-0000-4000-8000-000000000001"
	openPool(t, w, g, id, 1)
	rpid, _ := psrp.ParseGUID(id)
	msgs := make([]psrp.Message, 50)
	for i := range msgs {
		msgs[i] = psrp.NewClientSessionCapability(rpid)
	}
	send := onShell(w.template(t, "pypsrp-psrp-send.xml"), id, "")
	send = reStreamCmd.ReplaceAll(send, []byte("$1"))
	send = replaceGroup(rePayload, send, fragments(msgs...))
	var refused string
	for range 100 {
		rec := post(g, "alice", send)
		checkResponse(t, rec)
		if rec.Code != http.StatusOK {
			refused = rec.Body.String()
			break
		}
	}
	if !strings.Contains(refused, string(psgate.CodeBadMessage)) {
		t.Fatalf("pool messages never refused while nothing was received (last refusal %q)", refused)
	}
	receive := onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, "")
	for range 200 {
		if rec := post(g, "alice", receive); rec.Code != http.StatusOK {
			break
		}
	}
	expect(t, g, "alice", send, http.StatusOK, "SendResponse")
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// Connect starts the pool stream afresh; a Receive already waiting on the
// pool is woken by the messages queued for the new client instead of
// sleeping until its timeout.
func TestConnectWakesWaitingReceive(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxReceiveWait = 20 * time.Second })
	const id = "DDDDDDDD-0000-4000-8000-000000000001"
	openPool(t, w, g, id, 1)
	receive := onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, "")
	expect(t, g, "alice", receive, http.StatusOK, "ReceiveResponse") // the opening messages
	got := make(chan *response, 1)
	go func() {
		rec := post(g, "alice", receive)
		got <- &response{code: rec.Code, body: rec.Body.String()}
	}()
	time.Sleep(100 * time.Millisecond)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-connect-pool.xml"), id, ""), http.StatusOK, "ConnectResponse")
	select {
	case r := <-got:
		if r.code != http.StatusOK || !strings.Contains(r.body, "ReceiveResponse") {
			t.Fatalf("waiting Receive: got %d %s", r.code, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Receive waiting on the pool was not woken by Connect")
	}
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// The streams of one compressed Send share one decompression budget: a
// small envelope of many highly compressed streams must not expand to
// gigabytes.
func TestCompressedSendExpansionIsBounded(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxEnvelopeSize = 512000 })
	created := expect(t, g, "alice", w.template(t, "powershell-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	stream := base64.StdEncoding.EncodeToString(xpress.FrameCompressed(make([]byte, 6<<20)))
	var streams bytes.Buffer
	for range 3 {
		fmt.Fprintf(&streams, `<rsp:Stream Name="stdin">%s</rsp:Stream>`, stream)
	}
	send := onShell(w.template(t, "pypsrp-psrp-send.xml"), id, "")
	send = replaceGroup(reSendBody, send, streams.String())
	expect(t, g, "alice", send, http.StatusInternalServerError, "expands past")
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d leases held after a broken compressed Send", n)
	}
}

// Broken fragments poison the shell's reassembler: the shell is closed at
// once, its quota slot freed, and later requests are told why.
func TestBrokenFragmentsCloseTheShell(t *testing.T) {
	tests := []struct {
		name    string
		request string
		payload []byte
	}{
		{"pool Send", "pool", []byte("not a fragment at all")},
		{"pipeline Arguments", "pypsrp-psrp-command.xml", make([]byte, 30)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			g := w.gateway(t)
			id := fmt.Sprintf("EEEEEEEE-0000-4000-8000-%012d", i)
			openPool(t, w, g, id, 1)
			var body []byte
			if tt.request == "pool" {
				body = reStreamCmd.ReplaceAll(onShell(w.template(t, "pypsrp-psrp-send.xml"), id, ""), []byte("$1"))
			} else {
				body = onShell(w.template(t, tt.request), id, "")
			}
			body = replaceGroup(rePayload, body, base64.StdEncoding.EncodeToString(tt.payload))
			expect(t, g, "alice", body, http.StatusInternalServerError, string(psgate.CodeBadFragment))
			if n := w.leases(t); n != 0 {
				t.Fatalf("%d leases held after broken fragments", n)
			}
			receive := onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, "")
			expect(t, g, "alice", receive, http.StatusInternalServerError, "carried broken fragments")
		})
	}
}

// Disconnect changes a shell's idle timeout while the expiry timer reads
// it, and a Receive may time out while Delete closes its shell: both must
// be free of data races (run with -race).
func TestShellStateRaces(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	sleep := replaceGroup(reWinRSCommand, onShell(w.template(t, "pywinrm-command.xml"), id, ""), "Start-Sleep -Seconds 30")
	sleep = reArguments.ReplaceAll(sleep, nil)
	cmdResp := expect(t, g, "alice", sleep, http.StatusOK, "CommandResponse")
	cmd := reGotCommand.FindStringSubmatch(cmdResp)[1]

	disconnect := reDisconnect.ReplaceAll(onShell(w.template(t, "pypsrp-disconnect.xml"), id, ""),
		[]byte(`<rsp:Disconnect><rsp:IdleTimeOut>PT120S</rsp:IdleTimeOut></rsp:Disconnect>`))
	reconnect := onShell(w.template(t, "pypsrp-reconnect.xml"), id, "")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			g.Expire(ctx)
		}
	})
	for range 20 {
		expect(t, g, "alice", disconnect, http.StatusOK, "DisconnectResponse")
		expect(t, g, "alice", reconnect, http.StatusOK, "ReconnectResponse")
	}
	receive := onShell(w.template(t, "pywinrm-receive.xml"), id, cmd)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				checkResponse(t, post(g, "alice", receive))
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	if n := w.leases(t); n != 0 {
		t.Fatalf("%d leases held after the shell closed", n)
	}
}

// A client may send pool messages (a new SESSION_CAPABILITY or
// INIT_RUNSPACEPOOL, with another RPID or host) while pipelines write
// output: the pipelines must not read the pool's state unguarded (run with
// -race).
func TestPoolMessagesRacePipelines(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	const id = "FFFFFFFF-0000-4000-8000-000000000001"
	openPool(t, w, g, id, 1)
	other, _ := psrp.ParseGUID("FFFFFFFF-0000-4000-8000-000000000002")
	initMsg, err := psrp.NewInitRunspacePool(other, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	send := reStreamCmd.ReplaceAll(onShell(w.template(t, "pypsrp-psrp-send.xml"), id, ""), []byte("$1"))
	send = replaceGroup(rePayload, send, fragments(psrp.NewClientSessionCapability(other), initMsg))
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 10 {
			expect(t, g, "alice", send, http.StatusOK, "SendResponse")
		}
	})
	for n := range 12 {
		r := pipeline(t, w, g, "synthetic-psrp-users.xml", id, fmt.Sprintf("12121212-0000-4000-8000-%012d", n))
		if r.code != http.StatusOK {
			t.Fatalf("pipeline %d: got %d %s", n, r.code, r.body)
		}
	}
	wg.Wait()
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// A command that panics fails with an internal error; the server, the
// shell and every other session go on. (The engine recovers the panic;
// this guards the promise at the gateway.)
func TestCommandPanicIsContained(t *testing.T) {
	w := newWorld(t)
	if err := w.catalog.Register(&engine.Command{Name: "Invoke-Panic", Run: func(context.Context, *engine.Invocation) error {
		panic("boom")
	}}); err != nil {
		t.Fatal(err)
	}
	g := w.gateway(t)
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	command := reArguments.ReplaceAll(replaceGroup(reWinRSCommand, onShell(w.template(t, "pywinrm-command.xml"), id, ""), "Invoke-Panic"), nil)
	cmdResp := expect(t, g, "alice", command, http.StatusOK, "CommandResponse")
	cmd := reGotCommand.FindStringSubmatch(cmdResp)[1]
	receive := onShell(w.template(t, "pywinrm-receive.xml"), id, cmd)
	var stderr []byte
	for range 100 {
		rec := post(g, "alice", receive)
		checkResponse(t, rec)
		for _, m := range regexp.MustCompile(`Name="stderr"[^>]*>([^<]+)<`).FindAllStringSubmatch(rec.Body.String(), -1) {
			b, _ := base64.StdEncoding.DecodeString(m[1])
			stderr = append(stderr, b...)
		}
		if strings.Contains(rec.Body.String(), "CommandState/Done") {
			break
		}
	}
	if !bytes.Contains(stderr, []byte(psgate.CodeInternal)) {
		t.Fatalf("stderr of a panicking command: %q, want %s", stderr, psgate.CodeInternal)
	}
	// The shell still runs commands.
	expect(t, g, "alice", reArguments.ReplaceAll(replaceGroup(reWinRSCommand, command, "Get-Date"), nil), http.StatusOK, "CommandResponse")
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// Pipeline input waiting for a pipeline that does not read it is bounded
// in bytes, not only in objects: a few large objects must not pile up
// without end.
func TestPipelineInputIsBounded(t *testing.T) {
	w := newWorld(t)
	// 16 times the 64 KiB output buffer: 1 MiB of input may wait.
	g := w.gateway(t, func(c *gateway.Config) { c.MaxEnvelopeSize = 512000 })
	const id = "13131313-0000-4000-8000-000000000001"
	const cmd = "14141414-0000-4000-8000-000000000001"
	openPool(t, w, g, id, 1)
	rpid, _ := psrp.ParseGUID(id)
	pid, _ := psrp.ParseGUID(cmd)
	cp, err := psrp.NewCreatePipeline(rpid, pid, psrp.CreatePipeline{PowerShell: psrp.PowerShell{Commands: []psrp.Command{
		{Cmd: "Start-Sleep", Args: []psrp.Arg{{Name: "Seconds", Value: int32(30)}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	command := replaceGroup(rePayload, onShell(w.template(t, "pypsrp-psrp-command.xml"), id, cmd), fragments(cp))
	expect(t, g, "alice", command, http.StatusOK, "CommandResponse")
	in, err := psrp.NewPipelineInput(rpid, pid, strings.Repeat("x", 300<<10))
	if err != nil {
		t.Fatal(err)
	}
	send := replaceGroup(rePayload, onShell(w.template(t, "pypsrp-psrp-send.xml"), id, cmd), fragments(in))
	sent := 0
	var refused string
	for range 400 {
		rec := post(g, "alice", send)
		checkResponse(t, rec)
		if rec.Code != http.StatusOK {
			refused = rec.Body.String()
			break
		}
		sent++
	}
	if !strings.Contains(refused, "too much pipeline input") {
		t.Fatalf("%d objects of 300 KiB queued without a refusal (last: %q)", sent, refused)
	}
	// 1 MiB waits, and the engine may hold an object or two it read.
	if sent > 6 {
		t.Fatalf("%d objects of 300 KiB queued, want about 1 MiB", sent)
	}
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}
