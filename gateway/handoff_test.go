package gateway_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/admission"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/store"
)

// peer is a second node of the world: its own admitter (node
// incarnation) on the same store, and its own gateway.
type peer struct {
	adm *admission.Admitter
	g   *gateway.Gateway
}

func (w *world) peer(t *testing.T, opts ...func(*gateway.Config)) *peer {
	t.Helper()
	adm, err := admission.New(admission.Config{Store: w.st, NodeName: "peer:5985", Now: func() time.Time {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // the world's store clock
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := adm.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts = append([]func(*gateway.Config){func(c *gateway.Config) { c.Admit, c.Audit = adm, adm }}, opts...)
	return &peer{adm: adm, g: w.gateway(t, opts...)}
}

// handOver moves shell id from g (the world's node) to p the way the
// server does: HandOff, the serialized form over the wire, admission's
// Adopt on the taker, the gateway's Adopt, FinishHandOff.
func (w *world) handOver(t *testing.T, g *gateway.Gateway, p *peer, id string) {
	t.Helper()
	ctx := context.Background()
	w.adm.BeginHandOver(id)
	h, err := g.HandOff(ctx, id)
	if err != nil {
		w.adm.EndHandOver(id, false)
		t.Fatalf("HandOff(%s) error = %v", id, err)
	}
	b, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := gateway.DecodeHandoff(b)
	if err != nil {
		t.Fatalf("DecodeHandoff(%s) error = %v", b, err)
	}
	grant, auth, err := p.adm.Adopt(ctx, got.ShellID, got.Owner, w.adm.NodeID())
	if err == nil {
		err = p.g.Adopt(ctx, got, grant, auth)
	}
	g.FinishHandOff(id, err == nil)
	w.adm.EndHandOver(id, err == nil)
	if err != nil {
		t.Fatalf("adopt %s: %v", id, err)
	}
}

// objectIDs lists the PSRP ObjectIds of the fragments in a response.
func objectIDs(t *testing.T, body string) []uint64 {
	t.Helper()
	var ids []uint64
	for _, m := range reStreamData.FindAllStringSubmatch(body, -1) {
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			f, n, err := psrp.DecodeFragment(data)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, f.ObjectID)
			data = data[n:]
		}
	}
	return ids
}

// collectIDs is collect that also returns the ObjectIds the client saw.
func collectIDs(t *testing.T, w *world, g http.Handler, id, cmd string) (outputs int, ids []uint64) {
	t.Helper()
	var in psrp.Reassembler
	for {
		rec := post(g, "alice", pipeReceive(t, w, id, cmd))
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			if strings.Contains(body, "2150858793") {
				continue // w:TimedOut: receive again
			}
			t.Fatalf("command Receive: %d %s", rec.Code, body)
		}
		ids = append(ids, objectIDs(t, body)...)
		for _, m := range streamMessages(t, &in, body) {
			if m.Type == psrp.MsgPipelineOutput {
				outputs++
			}
		}
		if strings.Contains(body, "CommandState/Done") {
			return outputs, ids
		}
	}
}

// A runspace pool handed over to another node answers there as it did
// here: same ShellId, same quota slot, the next pipeline runs, and the
// server's fragment ObjectIds continue where they stopped.
func TestHandOffPSRPContinuesOnPeer(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	p := w.peer(t)
	const id = "EEEEEEEE-0000-4000-8000-000000000001"
	openPool(t, w, g, id, 1)
	opening := expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	seen := objectIDs(t, opening)
	if r := pipeline(t, w, g, "synthetic-psrp-users.xml", id, "EEEEEEEE-0000-4000-8000-0000000000A1"); r.code != http.StatusOK {
		t.Fatalf("pipeline before the hand-over: %d %s", r.code, r.body)
	}
	n, ids := collectIDs(t, w, g, id, "EEEEEEEE-0000-4000-8000-0000000000A1")
	if n == 0 {
		t.Fatal("the pipeline before the hand-over returned nothing")
	}
	seen = append(seen, ids...)
	if got := g.IdleShells(); len(got) != 1 || got[0] != id {
		t.Fatalf("IdleShells() = %v, want [%s]", got, id)
	}

	w.handOver(t, g, p, id)

	if g.ShellCount() != 0 || p.g.ShellCount() != 1 {
		t.Fatalf("after the hand-over: %d shells here, %d on the peer; want 0 and 1", g.ShellCount(), p.g.ShellCount())
	}
	l, err := w.st.Lease(context.Background(), id)
	if err != nil || l.NodeID != p.adm.NodeID() {
		t.Fatalf("lease after the hand-over = %+v, %v; want it on the peer", l, err)
	}
	// Without a cluster link the old node knows nothing of the shell.
	expect(t, g, "alice", pipeReceive(t, w, id, "EEEEEEEE-0000-4000-8000-0000000000A1"), http.StatusInternalServerError, "")

	// The same client state works on the peer.
	if r := pipeline(t, w, p.g, "synthetic-psrp-users.xml", id, "EEEEEEEE-0000-4000-8000-0000000000A2"); r.code != http.StatusOK {
		t.Fatalf("pipeline after the hand-over: %d %s", r.code, r.body)
	}
	n2, ids2 := collectIDs(t, w, p.g, id, "EEEEEEEE-0000-4000-8000-0000000000A2")
	if n2 != n {
		t.Errorf("pipeline after the hand-over returned %d objects, before %d", n2, n)
	}
	last := seen[len(seen)-1]
	for _, x := range seen {
		last = max(last, x)
	}
	if len(ids2) == 0 || ids2[0] != last+1 {
		t.Errorf("first ObjectId on the peer = %v, want %d (the sequence continues)", ids2, last+1)
	}
	// The late Signal of the pipeline retired before the move succeeds.
	signal := onShell(w.template(t, "pypsrp-psrp-signal-terminate.xml"), id, "EEEEEEEE-0000-4000-8000-0000000000A1")
	expect(t, p.g, "alice", signal, http.StatusOK, "SignalResponse")

	info := expect(t, p.g, "alice", onShell(w.template(t, "pypsrp-get-shell.xml"), id, ""), http.StatusOK, "GetResponse")
	if !strings.Contains(info, "<rsp:ShellId>"+id+"</rsp:ShellId>") {
		t.Errorf("Get on the peer: %s", info)
	}
	expect(t, p.g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	if n := w.leases(t); n != 0 {
		t.Errorf("leases after Delete on the peer = %d, want 0", n)
	}
}

// A disconnected session is adoptable: Connect-PSSession works on the
// node that took it over, after the node that created it let it go.
func TestHandOffDisconnectedThenConnectOnPeer(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	p := w.peer(t)
	const id = "EEEEEEEE-0000-4000-8000-000000000002"
	openPool(t, w, g, id, 1)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-disconnect.xml"), id, ""), http.StatusOK, "DisconnectResponse")

	w.handOver(t, g, p, id)

	info := expect(t, p.g, "alice", onShell(w.template(t, "pypsrp-get-shell.xml"), id, ""), http.StatusOK, "GetResponse")
	if !strings.Contains(info, "<rsp:State>Disconnected</rsp:State>") {
		t.Errorf("the adopted shell is not disconnected: %s", info)
	}
	body := expect(t, p.g, "alice", pipeReceive(t, w, id, "EEEEEEEE-0000-4000-8000-0000000000B1"), http.StatusInternalServerError, "")
	if !strings.Contains(body, "currently disconnected") {
		t.Errorf("Receive on the adopted disconnected shell: %s", body)
	}
	expect(t, p.g, "alice", onShell(w.template(t, "pypsrp-connect-pool.xml"), id, ""), http.StatusOK, "ConnectResponse")
	expect(t, p.g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	if r := pipeline(t, w, p.g, "synthetic-psrp-users.xml", id, "EEEEEEEE-0000-4000-8000-0000000000B2"); r.code != http.StatusOK {
		t.Fatalf("pipeline after Connect on the peer: %d %s", r.code, r.body)
	}
	if n, _ := collectIDs(t, w, p.g, id, "EEEEEEEE-0000-4000-8000-0000000000B2"); n == 0 {
		t.Error("the pipeline after Connect on the peer returned nothing")
	}
	// And back: the peer drains too, and the first node takes it again.
	p.adm.BeginHandOver(id)
	h, err := p.g.HandOff(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	grant, auth, err := w.adm.Adopt(context.Background(), id, h.Owner, p.adm.NodeID())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Adopt(context.Background(), h, grant, auth); err != nil {
		t.Fatal(err)
	}
	p.g.FinishHandOff(id, true)
	p.adm.EndHandOver(id, true)
	expect(t, g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	if n := w.leases(t); n != 0 {
		t.Errorf("leases after Delete = %d, want 0", n)
	}
}

// A shell that runs a pipeline is refused; one that runs nothing moves
// even while its client waits on a Receive, which is answered w:TimedOut
// so that the client sends it again.
func TestHandOffBusyAndPendingReceive(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t, func(c *gateway.Config) { c.MaxReceiveWait = time.Minute })
	p := w.peer(t)
	const id, cmd = "EEEEEEEE-0000-4000-8000-000000000003", "EEEEEEEE-0000-4000-8000-0000000000C1"
	openPool(t, w, g, id, 1)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	if r := pipeline(t, w, g, "synthetic-psrp-sleep.xml", id, cmd); r.code != http.StatusOK {
		t.Fatalf("pipeline: %d %s", r.code, r.body)
	}
	if got := g.IdleShells(); len(got) != 0 {
		t.Errorf("IdleShells() with a pipeline running = %v", got)
	}
	_, err := g.HandOff(context.Background(), id)
	var be *gateway.BusyError
	if !errors.Is(err, gateway.ErrShellBusy) || !errors.As(err, &be) || be.ShellID != id {
		t.Fatalf("HandOff() of a shell running a pipeline error = %v, want a BusyError", err)
	}
	// The refusal changed nothing: the pipeline is stopped as usual.
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-signal-terminate.xml"), id, cmd), http.StatusOK, "SignalResponse")

	pending := make(chan *response, 1)
	go func() {
		rec := post(g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""))
		pending <- &response{code: rec.Code, body: rec.Body.String()}
	}()
	for g.OpsInFlight(id) < 1 {
		time.Sleep(time.Millisecond) // until the Receive waits
	}
	w.handOver(t, g, p, id)
	r := <-pending
	if r.code == http.StatusOK || !strings.Contains(r.body, "2150858793") {
		t.Errorf("pending Receive during the hand-over answered %d %s, want w:TimedOut", r.code, r.body)
	}
	expect(t, p.g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}

// Requests that arrive while a hand-over is undecided wait for it: they
// run here when the shell stays, and never here when it moved.
func TestHandOffRequestsWaitForTheOutcome(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	const id = "EEEEEEEE-0000-4000-8000-000000000004"
	openPool(t, w, g, id, 1)
	expect(t, g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	for i, adopted := range []bool{false, true} {
		cmd := []string{"EEEEEEEE-0000-4000-8000-0000000000D1", "EEEEEEEE-0000-4000-8000-0000000000D2"}[i]
		if _, err := g.HandOff(context.Background(), id); err != nil {
			t.Fatalf("HandOff() error = %v", err)
		}
		if _, err := g.HandOff(context.Background(), id); !errors.Is(err, gateway.ErrShellBusy) {
			t.Errorf("second HandOff() while moving error = %v, want busy", err)
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.AwaitMove(id)(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("awaitMove() with its context ended error = %v, want context.Canceled", err)
		}
		waited := make(chan error, 1)
		await := g.AwaitMove(id)
		go func() { waited <- await(context.Background()) }()
		done := make(chan *response, 1)
		go func() { done <- pipeline(t, w, g, "synthetic-psrp-users.xml", id, cmd) }()
		g.FinishHandOff(id, adopted)
		if err := <-waited; adopted && !errors.Is(err, gateway.ErrShellMoved) || !adopted && err != nil {
			t.Errorf("awaitMove() after FinishHandOff(%v) error = %v", adopted, err)
		}
		r := <-done
		switch {
		case !adopted && r.code != http.StatusOK:
			t.Fatalf("command after a hand-over that kept the shell: %d %s", r.code, r.body)
		case !adopted:
			if n, _ := collectIDs(t, w, g, id, cmd); n == 0 {
				t.Error("the command after the kept hand-over returned nothing")
			}
		case r.code == http.StatusOK:
			t.Errorf("command ran on the node the shell moved away from: %s", r.body)
		}
	}
	if g.ShellCount() != 0 {
		t.Errorf("shells left after the move = %d", g.ShellCount())
	}
	// FinishHandOff freed nothing: the slot moved with the shell (here to
	// nobody, as this test has no taker), so the lease stays until it
	// expires.
	if n := w.leases(t); n != 1 {
		t.Errorf("leases after FinishHandOff(adopted) = %d, want 1 (never released by the giver)", n)
	}
}

// A WinRS shell moves too: its next command runs on the peer, and a late
// Signal for a command finished before the move succeeds there.
func TestHandOffWinRS(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	p := w.peer(t)
	created := expect(t, g, "alice", w.template(t, "pywinrm-create.xml"), http.StatusOK, "CreateResponse")
	id := reGotShell.FindStringSubmatch(created)[1]
	run := func(g http.Handler) (string, string) {
		t.Helper()
		command := reArguments.ReplaceAll(replaceGroup(reWinRSCommand, onShell(w.template(t, "pywinrm-command.xml"), id, ""), "Get-Date"), nil)
		cmd := reGotCommand.FindStringSubmatch(expect(t, g, "alice", command, http.StatusOK, "CommandResponse"))[1]
		var out strings.Builder
		for {
			rec := post(g, "alice", onShell(w.template(t, "pywinrm-receive.xml"), id, cmd))
			if rec.Code != http.StatusOK {
				t.Fatalf("WinRS Receive: %d %s", rec.Code, rec.Body.String())
			}
			out.WriteString(rec.Body.String())
			if strings.Contains(rec.Body.String(), "CommandState/Done") {
				return cmd, out.String()
			}
		}
	}
	before, _ := run(g)
	w.handOver(t, g, p, id)
	if _, out := run(p.g); !strings.Contains(out, "<rsp:Stream") {
		t.Errorf("command on the peer: %s", out)
	}
	signal := onShell(w.template(t, "pywinrm-signal.xml"), id, before)
	expect(t, p.g, "alice", signal, http.StatusOK, "SignalResponse")
	expect(t, p.g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
	if ls, _ := w.st.Leases(context.Background(), store.LeaseFilter{}); len(ls) != 0 {
		t.Errorf("leases after Delete on the peer: %v", ls)
	}
}

// DecodeHandoff refuses what this node cannot install faithfully.
func TestDecodeHandoffRefusesForeignForms(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{`,
		"other format":  `{"format":"x","version":1}`,
		"newer version": `{"format":"psgate.shell-handoff","version":99}`,
		"no owner":      `{"format":"psgate.shell-handoff","version":1,"shell_id":"S","state":"Connected","kind":"winrs","winrs":{}}`,
	} {
		if _, err := gateway.DecodeHandoff([]byte(body)); err == nil {
			t.Errorf("DecodeHandoff(%s) succeeded", name)
		}
	}
}

// Pool output the client never asked for (psgate's own client skips the
// opening Receive) moves with the shell: the peer delivers it.
func TestHandOffCarriesUnreadPoolOutput(t *testing.T) {
	w := newWorld(t)
	g := w.gateway(t)
	p := w.peer(t)
	const id = "EEEEEEEE-0000-4000-8000-000000000005"
	openPool(t, w, g, id, 1)
	if got := g.IdleShells(); len(got) != 1 {
		t.Fatalf("IdleShells() with the opening messages unread = %v, want the pool", got)
	}
	w.handOver(t, g, p, id)
	body := expect(t, p.g, "alice", onShell(w.template(t, "pypsrp-psrp-receive-pool.xml"), id, ""), http.StatusOK, "ReceiveResponse")
	var in psrp.Reassembler
	var types []psrp.MessageType
	for _, m := range streamMessages(t, &in, body) {
		types = append(types, m.Type)
	}
	want := []psrp.MessageType{psrp.MsgSessionCapability, psrp.MsgApplicationPrivateData, psrp.MsgRunspacePoolState}
	if !slices.Equal(types, want) {
		t.Errorf("the peer's first pool Receive carried %v, want the opening messages", types)
	}
	expect(t, p.g, "alice", deleteBody(id), http.StatusOK, "DeleteResponse")
}
