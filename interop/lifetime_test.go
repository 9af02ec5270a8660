package interop

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/wsman"
)

// fakeClock is a settable clock for the server.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestSessionLifetimeAndIdle: a shell past its lifetime or idle timeout is
// closed, its slot released, and the next request on it is told which
// limit closed it and what to do.
func TestSessionLifetimeAndIdle(t *testing.T) {
	clock := &fakeClock{}
	ts := startServerWith(t, func(c *server.Config) { c.Now = clock.now })
	ctx := context.Background()
	url := ts.httpURL
	command := `<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`

	// advance moves the clock in 10-second steps, running the server's
	// periodic work at each, as its timers would: lease renewal must keep
	// up or the node fails closed.
	advance := func(d time.Duration) {
		for step := 10 * time.Second; d > 0; d -= step {
			clock.advance(min(step, d))
			ts.Tick(ctx)
		}
	}
	leases := func() int {
		tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := ts.Store().Leases(ctx, store.LeaseFilter{TenantID: tn.ID, Now: clock.now()})
		if err != nil {
			t.Fatal(err)
		}
		return len(ls)
	}

	t.Run("lifetime", func(t *testing.T) {
		id, f := create(t, url, server.DemoAdmin, adminPassword, "LIFE-1")
		if f != nil {
			t.Fatal(f)
		}
		// Keep it busy so idle does not fire first.
		for range 4 {
			advance(14 * time.Minute)
			if status, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("LIFE-CMD", actCommand, id, command)); status != 200 {
				t.Fatalf("command before the lifetime: HTTP %d %s", status, body)
			}
		}
		if n := leases(); n != 1 {
			t.Fatalf("%d leases held by one open shell after 56 minutes", n)
		}
		advance(5 * time.Minute) // 61 minutes after opening
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Fatalf("%d shells open after the 60-minute lifetime", n)
		}
		if n := leases(); n != 0 {
			t.Fatalf("%d leases held after the lifetime closed the shell", n)
		}
		_, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("LIFE-2", actCommand, id, command))
		flt, err := wsman.DecodeFault([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if flt.ErrorCode != "admission.session-lifetime-reached" || !strings.Contains(flt.Reason, "reached its lifetime of 1h0m0s") {
			t.Fatalf("request after the lifetime: %+v", flt)
		}
		if res, _ := flt.Value("resolution"); !strings.Contains(res, "psgate connect") {
			t.Errorf("resolution %q does not say how to reconnect", res)
		}
	})

	t.Run("idle", func(t *testing.T) {
		id, f := create(t, url, server.DemoAdmin, adminPassword, "IDLE-1")
		if f != nil {
			t.Fatal(f)
		}
		advance(15*time.Minute + 10*time.Second)
		_, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("IDLE-2", actCommand, id, command))
		flt, err := wsman.DecodeFault([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if flt.ErrorCode != "admission.session-idle-timeout" || leases() != 0 {
			t.Fatalf("request after the idle timeout: %+v, %d leases", flt, leases())
		}
	})

	t.Run("activity reaches the lease", func(t *testing.T) {
		id, f := create(t, url, server.DemoAdmin, adminPassword, "ACT-1")
		if f != nil {
			t.Fatal(f)
		}
		advance(3 * time.Minute)
		if status, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("ACT-CMD", actCommand, id, command)); status != 200 {
			t.Fatalf("command: HTTP %d %s", status, body)
		}
		used := clock.now()
		if status, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("ACT-DISC", actDisconnect, id, `<rsp:Disconnect/>`)); status != 200 {
			t.Fatalf("Disconnect: HTTP %d %s", status, body)
		}
		advance(20 * time.Second) // two renewals
		l, err := ts.Store().Lease(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.State != store.StateDisconnected {
			t.Errorf("lease state %q after Disconnect, want %q", l.State, store.StateDisconnected)
		}
		if d := l.LastActiveAt.Sub(used); d < -time.Second || d > time.Second {
			t.Errorf("lease last active %v, want about %v (the last request)", l.LastActiveAt, used)
		}
	})

	t.Run("a stalled node names the lifetime, not the lost lease", func(t *testing.T) {
		advance(20 * time.Second)
		id, f := create(t, url, server.DemoAdmin, adminPassword, "STALL-1")
		if f != nil {
			t.Fatal(f)
		}
		// One jump past both the lease TTL and the lifetime, as a node
		// that was suspended would see.
		clock.advance(61 * time.Minute)
		ts.Tick(ctx)
		_, _, body := soapPost(t, url, server.DemoAdmin, adminPassword, envelope("STALL-2", actCommand, id, command))
		flt, err := wsman.DecodeFault([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if flt.ErrorCode != "admission.session-lifetime-reached" {
			t.Fatalf("after a stall past the lifetime: %s, want admission.session-lifetime-reached", flt.ErrorCode)
		}
	})
}
