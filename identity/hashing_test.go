package identity

import (
	"context"
	"testing"
	"time"

	"github.com/psgate/psgate"
)

// gateRun starts a sign-in of the class on g whose hash reports its name
// on started and then holds its slot until release closes. It returns the
// channel that gets run's result.
func gateRun(ctx context.Context, g *hashGate, name string, familiar bool, started chan<- string, release <-chan struct{}) <-chan error {
	res := make(chan error, 1)
	go func() {
		res <- g.run(ctx, familiar, func() {
			started <- name
			<-release
		})
	}()
	return res
}

// waitQueued waits until g has fam familiar and str stranger sign-ins
// waiting (the goroutines that queue them run on their own).
func waitQueued(t *testing.T, g *hashGate, fam, str int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		f, s := len(g.waitFam), len(g.waitStr)
		g.mu.Unlock()
		if f == fam && s == str {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting: %d familiar, %d strangers; want %d and %d", f, s, fam, str)
		}
	}
}

// A slot freed by a stranger goes to a familiar sign-in that waits, before
// the strangers queued earlier; strangers never take the reserved slot;
// and beyond each queue a sign-in is refused at once.
func TestHashGateFamiliarFirst(t *testing.T) {
	g := newHashGate(HashLimits{Concurrent: 1, Queue: 2, Familiar: 1}.withDefaults())
	ctx := context.Background()
	started := make(chan string, 16)
	rel := map[string]chan struct{}{}
	runs := map[string]<-chan error{}
	start := func(name string, familiar bool) {
		rel[name] = make(chan struct{})
		runs[name] = gateRun(ctx, g, name, familiar, started, rel[name])
	}

	start("stranger1", false)
	if got := <-started; got != "stranger1" {
		t.Fatalf("first hash = %s", got)
	}
	start("stranger2", false)
	waitQueued(t, g, 0, 1)
	start("stranger3", false)
	waitQueued(t, g, 0, 2)
	// The shared slot is taken and its queue full: one more stranger is
	// refused, and does not take the reserved slot.
	if err := g.run(ctx, false, func() { t.Error("a stranger hashed beyond the bound") }); psgate.CodeOf(err) != psgate.CodeSignInBusy {
		t.Fatalf("a stranger beyond the queue: %v, want %s", err, psgate.CodeSignInBusy)
	}
	// The owner hashes at once in the reserved slot; a second familiar
	// sign-in waits.
	start("owner1", true)
	if got := <-started; got != "owner1" {
		t.Fatalf("the owner waited behind %s", got)
	}
	start("owner2", true)
	waitQueued(t, g, 1, 2)

	// stranger1 ends: its slot goes to owner2, not to stranger2.
	close(rel["stranger1"])
	if got := <-started; got != "owner2" {
		t.Fatalf("the freed slot went to %s, want owner2 (familiar first)", got)
	}
	// owner1 ends: the strangers' share is free again, stranger2 next.
	close(rel["owner1"])
	if got := <-started; got != "stranger2" {
		t.Fatalf("next = %s, want stranger2", got)
	}
	for _, n := range []string{"owner2", "stranger2"} {
		close(rel[n])
	}
	if got := <-started; got != "stranger3" {
		t.Fatalf("last = %s, want stranger3", got)
	}
	close(rel["stranger3"])
	for n, r := range runs {
		if err := <-r; err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if g.running != 0 || g.strangers != 0 {
		t.Errorf("after every sign-in: %d running, %d strangers; want 0", g.running, g.strangers)
	}
}

// A sign-in whose request ends while it waits leaves the queue and holds
// no slot, and the slot it would have had goes to the next in line.
func TestHashGateGiveUp(t *testing.T) {
	g := newHashGate(HashLimits{Concurrent: 1, Queue: 2, Familiar: -1}.withDefaults())
	started := make(chan string, 4)
	hold := make(chan struct{})
	first := gateRun(context.Background(), g, "first", false, started, hold)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	quitter := gateRun(ctx, g, "quitter", false, started, make(chan struct{}))
	waitQueued(t, g, 0, 1)
	done := make(chan struct{})
	close(done)
	next := gateRun(context.Background(), g, "next", false, started, done)
	waitQueued(t, g, 0, 2)
	cancel()
	if err := <-quitter; psgate.CodeOf(err) != psgate.CodeSignInBusy {
		t.Fatalf("a waiter whose request ended: %v, want %s", err, psgate.CodeSignInBusy)
	}
	waitQueued(t, g, 0, 1)
	close(hold)
	if got := <-started; got != "next" {
		t.Fatalf("after the quitter left, %s hashed; want next", got)
	}
	for _, r := range []<-chan error{first, next} {
		if err := <-r; err != nil {
			t.Error(err)
		}
	}
	if g.running != 0 {
		t.Errorf("%d slots still held", g.running)
	}
}
