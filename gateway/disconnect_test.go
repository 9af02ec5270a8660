package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/psrp"
)

var (
	reStreamData = regexp.MustCompile(`<rsp:Stream\b[^>]*>([^<]*)</rsp:Stream>`)
	reIdleOut    = regexp.MustCompile(`<rsp:IdleTimeOut>PT([0-9.]+)S</rsp:IdleTimeOut>`)
)

// pipeReceive is pypsrp's Receive for command cmd of shell id.
func pipeReceive(t *testing.T, w *world, id, cmd string) []byte {
	t.Helper()
	body := onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, "")
	return bytes.Replace(body, []byte("<rsp:DesiredStream>"), []byte(`<rsp:DesiredStream CommandId="`+cmd+`">`), 1)
}

// streamMessages reassembles the PSRP messages of one ReceiveResponse.
func streamMessages(t *testing.T, in *psrp.Reassembler, body string) []psrp.Message {
	t.Helper()
	var out []psrp.Message
	for _, m := range reStreamData.FindAllStringSubmatch(body, -1) {
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("stream is not base64: %v", err)
		}
		msgs, err := in.Write(data)
		if err != nil {
			t.Fatalf("stream fragments: %v", err)
		}
		out = append(out, msgs...)
	}
	return out
}

// collect receives command cmd until CommandState Done and returns the
// number of PIPELINE_OUTPUT messages and of final PIPELINE_STATEs.
func collect(t *testing.T, w *world, g http.Handler, id, cmd string) (outputs, states int) {
	t.Helper()
	var in psrp.Reassembler
	deadline := time.Now().Add(10 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no CommandState Done: %d outputs, %d states so far", outputs, states)
		}
		rec := post(g, "alice", pipeReceive(t, w, id, cmd))
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			if strings.Contains(body, "2150858793") {
				continue
			}
			t.Fatalf("command Receive: %d %s", rec.Code, body)
		}
		for _, m := range streamMessages(t, &in, body) {
			switch m.Type {
			case psrp.MsgPipelineOutput:
				outputs++
			case psrp.MsgPipelineState:
				states++
			}
		}
		if strings.Contains(body, "CommandState/Done") {
			return outputs, states
		}
	}
}

// failingWriter is a client connection that broke while its response was
// being written; it keeps what the server tried to send.
type failingWriter struct {
	h    http.Header
	code int
	sent bytes.Buffer
}

func (f *failingWriter) Header() http.Header {
	if f.h == nil {
		f.h = http.Header{}
	}
	return f.h
}

func (f *failingWriter) WriteHeader(code int) { f.code = code }

func (f *failingWriter) Write(b []byte) (int, error) {
	f.sent.Write(b)
	return 0, errors.New("connection reset by peer")
}

func openUsersPipeline(t *testing.T, w *world, g http.Handler, id, cmd string) {
	t.Helper()
	openPool(t, w, g, id, 1)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	if r := pipeline(t, w, g, "synthetic-psrp-users.xml", id, cmd); r.code != http.StatusOK {
		t.Fatalf("pipeline: %d %s", r.code, r.body)
	}
}

// Output taken for a Receive whose response never reached the client (the
// write failed, or the client had already gone) is not lost: the next
// Receive gets it, and every object arrives exactly once.
func TestUndeliveredReceiveKeepsOutput(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxReceiveWait = 5 * time.Second })
	const id, cmd = "DDDDDDDD-0000-4000-8000-0000000000A1", "DDDDDDDD-0000-4000-8000-0000000000A2"
	openUsersPipeline(t, w, g, id, cmd)

	// The client went away before its Receive was served.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodPost, "http://gw.test/wsman", bytes.NewReader(pipeReceive(t, w, id, cmd))).WithContext(gone)
	r.SetBasicAuth("alice", fuzzPassword)
	g.ServeHTTP(httptest.NewRecorder(), r)

	// The connection breaks while the response, carrying output, is
	// written.
	for range 2 {
		fw := &failingWriter{}
		r = httptest.NewRequest(http.MethodPost, "http://gw.test/wsman", bytes.NewReader(pipeReceive(t, w, id, cmd)))
		r.SetBasicAuth("alice", fuzzPassword)
		g.ServeHTTP(fw, r)
		if fw.code != http.StatusOK || !strings.Contains(fw.sent.String(), "<rsp:Stream") {
			t.Fatalf("the failed Receive was not answered with output (status %d): %s", fw.code, fw.sent.String())
		}
	}

	outputs, states := collect(t, w, g, id, cmd)
	if outputs != 2 || states != 1 {
		t.Fatalf("after undelivered Receives the client got %d objects and %d final states, want the 2 users and 1 state", outputs, states)
	}
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// A Receive waiting when Disconnect arrives is answered (with what is
// available, here nothing) before the DisconnectResponse; afterwards the
// shell takes no new Receive until it is reconnected.
func TestDisconnectAnswersPendingReceive(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxReceiveWait = 30 * time.Second })
	const id, cmd = "DDDDDDDD-0000-4000-8000-0000000000B1", "DDDDDDDD-0000-4000-8000-0000000000B2"
	openPool(t, w, g, id, 1)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	if r := pipeline(t, w, g, "synthetic-psrp-sleep.xml", id, cmd); r.code != http.StatusOK {
		t.Fatalf("pipeline: %d %s", r.code, r.body)
	}
	// order records which response the gateway began to write first: the
	// writes themselves, not the goroutines that return afterwards.
	var mu sync.Mutex
	var order []string
	stamped := func(name string) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			g.ServeHTTP(&stampWriter{ResponseWriter: rw, stamp: func() {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
			}}, r)
		})
	}
	pending := make(chan *response, 1)
	go func() {
		rec := post(stamped("receive"), "alice", pipeReceive(t, w, id, cmd))
		pending <- &response{code: rec.Code, body: rec.Body.String()}
	}()
	time.Sleep(300 * time.Millisecond) // the Receive is waiting now
	start := time.Now()
	expect(t, stamped("disconnect"), "alice", onShell(w.template(t, "pypsrp-disconnect.xml"), id, ""), http.StatusOK, "DisconnectResponse")
	select {
	case r := <-pending:
		if r.code != http.StatusOK || !strings.Contains(r.body, "ReceiveResponse") || !strings.Contains(r.body, "CommandState/Running") {
			t.Fatalf("pending Receive answered %d %s, want a ReceiveResponse saying the command runs", r.code, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pending Receive was not answered by the Disconnect")
	}
	mu.Lock()
	if len(order) != 2 || order[0] != "receive" {
		t.Errorf("answered in the order %v: the DisconnectResponse went out before the pending Receive's", order)
	}
	mu.Unlock()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Disconnect took %v", d)
	}

	body := expect(t, g, "alice", pipeReceive(t, w, id, cmd), http.StatusInternalServerError, "")
	if !strings.Contains(body, "currently disconnected") {
		t.Fatalf("Receive on a disconnected shell: %s", body)
	}
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-reconnect.xml"), id, ""), http.StatusOK, "ReconnectResponse")
	signal := onShell(w.template(t, "pypsrp-psrp-signal-terminate.xml"), id, cmd)
	expect(t, g, "alice", signal, http.StatusOK, "SignalResponse")
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// Disconnect's rsp:IdleTimeOut becomes the disconnected shell's idle
// timeout, capped at the tenant policy's (rsp:MaxIdleTimeOut).
func TestDisconnectIdleTimeout(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	g := w.gateway(t, func(c *gateway.Config) { c.Now = clock })
	const id = "DDDDDDDD-0000-4000-8000-0000000000C1"
	openPool(t, w, g, id, 1)
	disconnect := func(idle string) {
		t.Helper()
		body := reDisconnect.ReplaceAll(onShell(w.template(t, "pypsrp-disconnect.xml"), id, ""),
			[]byte(`<rsp:Disconnect><rsp:IdleTimeOut>`+idle+`</rsp:IdleTimeOut></rsp:Disconnect>`))
		expect(t, g, "alice", body, http.StatusOK, "DisconnectResponse")
	}
	idle := func() string {
		t.Helper()
		got := expect(t, g, "alice", onShell(w.template(t, "pypsrp-get-shell.xml"), id, ""), http.StatusOK, "GetResponse")
		m := reIdleOut.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("no IdleTimeOut in %s", got)
		}
		return m[1]
	}
	// The world's policy allows 15 minutes: more is capped.
	disconnect("PT7200.000S")
	if got := idle(); got != "900.000" {
		t.Errorf("IdleTimeOut after Disconnect asking 7200 s = %s s, want the policy's 900", got)
	}
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-reconnect.xml"), id, ""), http.StatusOK, "ReconnectResponse")
	disconnect("PT120.000S")
	if got := idle(); got != "120.000" {
		t.Errorf("IdleTimeOut after Disconnect asking 120 s = %s s", got)
	}
	advance(110 * time.Second)
	g.Expire(context.Background())
	if g.ShellCount() != 1 {
		t.Fatal("the shell closed before its 120 s idle timeout")
	}
	advance(11 * time.Second)
	g.Expire(context.Background())
	if g.ShellCount() != 0 {
		t.Fatal("the disconnected shell outlived the idle timeout its client asked for")
	}
	body := expect(t, g, "alice", onShell(w.template(t, "pypsrp-reconnect.xml"), id, ""), http.StatusInternalServerError, "")
	if !strings.Contains(body, string(psgate.CodeIdleTimeoutReached)) {
		t.Errorf("Reconnect after the idle timeout: %s", body)
	}
}

// A Disconnect of a WinRS shell answers the shell's pending Receive at
// once (no output, the command still running), as it does for PSRP,
// instead of waiting for the Receive's own timeout and then failing.
func TestDisconnectAnswersPendingWinRSReceive(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxReceiveWait = 30 * time.Second })
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	sleep := replaceGroup(reWinRSCommand, onShell(w.template(t, "pywinrm-command.xml"), id, ""), "Start-Sleep -Seconds 30")
	sleep = reArguments.ReplaceAll(sleep, nil)
	cmd := reGotCommand.FindStringSubmatch(expect(t, g, "alice", sleep, http.StatusOK, "CommandResponse"))[1]

	pending := make(chan *response, 1)
	go func() {
		rec := post(g, "alice", onShell(w.template(t, "pywinrm-receive.xml"), id, cmd))
		pending <- &response{code: rec.Code, body: rec.Body.String()}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-disconnect.xml"), id, ""), http.StatusOK, "DisconnectResponse")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Disconnect took %v: it waited for the pending Receive's timeout", d)
	}
	select {
	case r := <-pending:
		if r.code != http.StatusOK || !strings.Contains(r.body, "ReceiveResponse") || !strings.Contains(r.body, "CommandState/Running") {
			t.Fatalf("pending Receive answered %d %s, want a ReceiveResponse saying the command runs", r.code, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pending Receive was not answered by the Disconnect")
	}
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-reconnect.xml"), id, ""), http.StatusOK, "ReconnectResponse")
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// A command's log line ties the WS-Man request (request_id) to the shell
// and the command id its audit records carry.
func TestCommandLogTiesRequestShellAndCommand(t *testing.T) {
	var buf syncBuffer
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	cmd := reGotCommand.FindStringSubmatch(expect(t, g, "alice", onShell(w.template(t, "pywinrm-command.xml"), id, ""), http.StatusOK, "CommandResponse"))[1]
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.Contains(line, `"msg":"command started"`) {
			continue
		}
		for _, want := range []string{`"request_id":"`, `"shell_id":"` + id + `"`, `"command_id":"` + cmd + `"`, `"user":"`} {
			if !strings.Contains(line, want) {
				t.Errorf("command log line lacks %s:\n%s", want, line)
			}
		}
		return
	}
	t.Fatalf("no command started log line:\n%s", buf.String())
}

// syncBuffer is a bytes.Buffer safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// stampWriter calls stamp when the handler begins its response.
type stampWriter struct {
	http.ResponseWriter
	stamp   func()
	stamped bool
}

func (w *stampWriter) WriteHeader(code int) {
	if !w.stamped {
		w.stamped = true
		w.stamp()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *stampWriter) Write(p []byte) (int, error) {
	if !w.stamped {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}
