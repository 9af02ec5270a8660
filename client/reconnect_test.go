package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
)

// commandCounter counts the pipelines the server accepted (Command
// requests answered 200), on the client's side of the wire.
type commandCounter struct {
	next     http.RoundTripper
	accepted atomic.Int64
}

func (c *commandCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := c.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(wsman.ActionCommand+"</a:Action>")) {
		c.accepted.Add(1)
	}
	return resp, err
}

// A stream of commands across many forced session closures neither loses
// nor repeats a command: commands that had not started are retried on the
// new session, commands that had started are reported interrupted.
func TestReconnectingNeitherLosesNorRepeats(t *testing.T) {
	ts := startServer(t)
	counter := &commandCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	cfg := ts.config()
	cfg.HTTPClient = &http.Client{Transport: counter}

	var (
		mu      sync.Mutex
		notices []string
	)
	var interruptNow atomic.Bool
	r := &Reconnecting{cfg: cfg, notify: func(msg string) {
		mu.Lock()
		notices = append(notices, msg)
		mu.Unlock()
	}}
	r.afterCommand = func() {
		if interruptNow.Swap(false) {
			ts.closeAll(t, "lifetime") // the session ends while the command runs
		}
	}
	ctx := testCtx(t)
	if _, err := r.session(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())

	const n = 40
	closures, interrupted := 0, map[int]bool{}
	for i := range n {
		switch {
		case i%5 == 1: // lifetime reached between commands
			ts.closeAll(t, "lifetime")
			closures++
		case i%11 == 6: // idle timeout between commands
			ts.closeAll(t, "idle")
			closures++
		case i%9 == 4: // closed behind the client's back
			if err := CloseSession(ctx, ts.config(), r.Session().ID()); err != nil {
				t.Fatal(err)
			}
			closures++
		case i%7 == 3: // lifetime reached while the command runs
			interruptNow.Store(true)
			interrupted[i] = true
			closures++
		}
		want := fmt.Sprintf("cmd-%d", i)
		res, err := r.Run(ctx, Script("Write-Output '"+want+"'"), RunOptions{})
		if interrupted[i] {
			e, ok := psgate.AsError(err)
			if !ok || e.Code != psgate.CodeCommandInterrupted || !strings.Contains(e.Message, want) {
				t.Fatalf("command %d: error = %v, want %s naming the command", i, err, psgate.CodeCommandInterrupted)
			}
			continue
		}
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if len(res.Output) != 1 || res.Output[0] != want {
			t.Fatalf("command %d: output %v, want [%s]", i, res.Output, want)
		}
	}
	if got := counter.accepted.Load(); got != n {
		t.Errorf("the server accepted %d pipelines for %d commands", got, n)
	}
	if got := r.Reconnects(); got != closures {
		t.Errorf("reconnected %d times for %d closures", got, closures)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != closures {
		t.Errorf("%d notices for %d closures: %q", len(notices), closures, notices)
	}
	for _, msg := range notices {
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "new session") {
			t.Errorf("notice %q is not a one-line notice", msg)
		}
	}
	if open := ts.Gateway().ShellCount(); open != 1 {
		t.Errorf("%d shells open on the server, want 1", open)
	}
}

// Without reconnection mode, a lost session is reported as it is.
func TestSessionWithoutReconnectionReportsLoss(t *testing.T) {
	ts := startServer(t)
	r, err := DialReconnecting(testCtx(t), ts.config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	s := r.Session()
	ts.closeAll(t, "lifetime")
	if _, err := s.Run(testCtx(t), Script("Write-Output x"), RunOptions{}); psgate.CodeOf(err) != psgate.CodeLifetimeReached {
		t.Fatalf("error = %v", err)
	}
	res, err := r.Run(testCtx(t), Script("Write-Output x"), RunOptions{})
	if err != nil || len(res.Output) != 1 {
		t.Fatalf("reconnecting run after loss: %v, %v", res, err)
	}
}

// dropper fails the next request carrying action, as a dropped connection
// would, after letting the server process it.
type dropper struct {
	next   http.RoundTripper
	action atomic.Value // string; "" drops nothing
}

func (d *dropper) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := d.next.RoundTrip(req)
	if a, _ := d.action.Load().(string); a != "" && err == nil && bytes.Contains(body, []byte(a+"</a:Action>")) {
		d.action.Store("")
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// After a dropped connection, a command whose fate is unknown is reported
// interrupted, the next one runs on a new session, and the old shell is
// closed.
func TestReconnectingAfterDroppedConnection(t *testing.T) {
	ts := startServer(t)
	d := &dropper{next: http.DefaultTransport.(*http.Transport).Clone()}
	d.action.Store("")
	cfg := ts.config()
	cfg.HTTPClient = &http.Client{Transport: d}
	var notices atomic.Int32
	r, err := DialReconnecting(testCtx(t), cfg, func(string) { notices.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	for i, action := range []string{wsman.ActionReceive, wsman.ActionCommand} {
		d.action.Store(action)
		_, err := r.Run(testCtx(t), Script("Write-Output lost"), RunOptions{})
		if psgate.CodeOf(err) != psgate.CodeCommandInterrupted {
			t.Fatalf("drop %d: error = %v, want %s", i, err, psgate.CodeCommandInterrupted)
		}
		res, err := r.Run(testCtx(t), Script("Write-Output next"), RunOptions{})
		if err != nil || len(res.Output) != 1 || res.Output[0] != "next" {
			t.Fatalf("drop %d: next command: %v, %v", i, res, err)
		}
		if n := ts.Gateway().ShellCount(); n != 1 {
			t.Errorf("drop %d: %d shells open, want 1", i, n)
		}
	}
	if notices.Load() != 2 {
		t.Errorf("%d notices for 2 drops", notices.Load())
	}
}
