package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// SoakConfig configures RunSoak: many open shells, each running a command
// at a steady rate for a long time.
type SoakConfig struct {
	// BaseURL is the gateway's plain-HTTP root.
	BaseURL string
	// Accounts are the users: shell 2k is user k's WinRS shell and shell
	// 2k+1 its PSRP pool, so Shells needs (Shells+1)/2 accounts.
	Accounts []Account
	// Shells is the number of open shells, half WinRS shells and half
	// PSRP runspace pools.
	Shells int
	// Interval is the time between two commands of one shell; 0 means 1s.
	// The shells' first commands are spread over the first interval.
	Interval time.Duration
	// Duration is the length of the run.
	Duration time.Duration
	// SharedAddress sends every user from the default loopback address
	// instead of its own 127.1.x.y.
	SharedAddress bool
	// Sample reads the server's resources at the end; nil reports none.
	Sample func() Usage
	// Logf reports progress (once a minute, or a quarter of the run when
	// shorter); nil is silent.
	Logf func(format string, args ...any)
}

// SoakReport is RunSoak's result.
type SoakReport struct {
	Shells   int
	Interval time.Duration
	Elapsed  time.Duration
	// All, WinRS and PSRP are the latencies of the successful commands;
	// Max* the slowest.
	All, WinRS, PSRP          Percentiles
	MaxAll, MaxWinRS, MaxPSRP time.Duration
	// Commands counts the successful commands, Errors the failed ones,
	// Late the commands that started more than an interval after their
	// slot (the previous one took that long).
	Commands     int
	Errors, Late int64
	// SetupErrors counts failures signing in, opening and closing.
	SetupErrors int64
	ErrorKinds  map[string]int
	// Requests counts the HTTP requests sent.
	Requests int64
	// End is the server's resources at the end of the run, before the
	// shells were closed.
	End Usage
}

// UnexpectedErrors counts every failure.
func (r *SoakReport) UnexpectedErrors() int64 { return r.Errors + r.SetupErrors }

// RunSoak signs in the users, opens the shells, runs one command per
// shell and interval for the duration, samples the server, and closes
// every shell. It returns an error only when it cannot run at all.
func RunSoak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	users := (cfg.Shells + 1) / 2
	if cfg.BaseURL == "" || cfg.Shells <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("loadgen: soak run needs a base URL, shells and a duration")
	}
	if len(cfg.Accounts) < users {
		return nil, fmt.Errorf("loadgen: %d shells need %d accounts, have %d", cfg.Shells, users, len(cfg.Accounts))
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	rep := &SoakReport{Shells: cfg.Shells, Interval: cfg.Interval}
	var errs errorLog
	defer func() { rep.ErrorKinds = errs.snapshot() }()

	clients := make([]*capClient, users)
	for i := range clients {
		clients[i] = newCapClient(i, cfg.Accounts[i], cfg.BaseURL, cfg.SharedAddress)
	}
	defer func() {
		cfg.Logf("closing %d shells", cfg.Shells)
		if err := each(context.WithoutCancel(ctx), users, func(ctx context.Context, i int) error { return clients[i].close(ctx) }); err != nil {
			rep.SetupErrors++
			errs.add("close", err)
		}
	}()
	started := time.Now()
	cfg.Logf("signing in %d users and opening %d shells", users, cfg.Shells)
	err := each(ctx, users, func(ctx context.Context, i int) error {
		c := clients[i]
		if err := c.signIn(ctx); err != nil {
			return err
		}
		if err := c.open(ctx, OpWinRS); err != nil {
			return err
		}
		if 2*i+1 < cfg.Shells {
			return c.open(ctx, OpPSRP)
		}
		return nil
	})
	if err != nil {
		rep.SetupErrors++
		errs.add("open", err)
		return rep, err
	}
	cfg.Logf("%d shells open in %v; running one command per shell every %v for %v", cfg.Shells, time.Since(started).Round(time.Millisecond), cfg.Interval, cfg.Duration)
	for _, c := range clients {
		c.m.takeLatencies()
	}
	var reqBefore int64
	for _, c := range clients {
		reqBefore += c.m.requests.Load()
	}

	var (
		mu       sync.Mutex
		lat      [2][]time.Duration // by op
		window   []time.Duration
		nerr     atomic.Int64
		late     atomic.Int64
		wg       sync.WaitGroup
		start    = time.Now()
		end      = start.Add(cfg.Duration)
		progress = min(time.Minute, cfg.Duration/4)
	)
	done := make(chan struct{})
	if progress > 0 {
		go func() {
			t := time.NewTicker(progress)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
				}
				mu.Lock()
				w := window
				window = nil
				n := len(lat[0]) + len(lat[1])
				mu.Unlock()
				p := percentiles(w)
				cfg.Logf("soak %v: %d commands, %d errors, %d late; last %v: p50 %s p99 %s", time.Since(start).Round(time.Second), n, nerr.Load(), late.Load(), progress, ms(p.P50), ms(p.P99))
			}
		}()
	}
	for j := range cfg.Shells {
		op := Op(j % 2)
		c := clients[j/2]
		next := start.Add(cfg.Interval * time.Duration(j) / time.Duration(cfg.Shells))
		wg.Go(func() {
			for ctx.Err() == nil && next.Before(end) {
				if !pause(ctx, time.Until(next)) {
					return
				}
				if time.Since(next) > cfg.Interval {
					late.Add(1)
				}
				octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
				t := time.Now()
				err := c.command(octx, op)
				took := time.Since(t)
				cancel()
				if err != nil {
					nerr.Add(1)
					errs.add("soak "+op.String(), err)
				} else {
					mu.Lock()
					lat[op] = append(lat[op], took)
					window = append(window, took)
					mu.Unlock()
				}
				next = next.Add(cfg.Interval)
				if now := time.Now(); next.Before(now) {
					next = now
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rep.Elapsed = time.Since(start)
	if cfg.Sample != nil {
		rep.End = cfg.Sample()
	}
	for _, c := range clients {
		rep.Requests += c.m.requests.Load()
		c.m.takeLatencies()
	}
	rep.Requests -= reqBefore
	rep.Errors, rep.Late = nerr.Load(), late.Load()
	all := append(append([]time.Duration(nil), lat[OpWinRS]...), lat[OpPSRP]...)
	rep.Commands = len(all)
	rep.All, rep.MaxAll = percentilesMax(all)
	rep.WinRS, rep.MaxWinRS = percentilesMax(lat[OpWinRS])
	rep.PSRP, rep.MaxPSRP = percentilesMax(lat[OpPSRP])
	return rep, nil
}

// percentilesMax is percentiles and the largest sample.
func percentilesMax(lat []time.Duration) (Percentiles, time.Duration) {
	p := percentiles(lat) // sorts lat
	if len(lat) == 0 {
		return p, 0
	}
	return p, lat[len(lat)-1]
}

// Write prints the report.
func (r *SoakReport) Write(w io.Writer) {
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "soak: %d shells (half WinRS, half PSRP), one command each every %v, for %v\n", r.Shells, r.Interval, r.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "%-6s %9s %10s %10s %10s %10s\n", "", "n", "p50", "p90", "p99", "max")
	for _, x := range []struct {
		name string
		p    Percentiles
		max  time.Duration
	}{{"winrs", r.WinRS, r.MaxWinRS}, {"psrp", r.PSRP, r.MaxPSRP}, {"all", r.All, r.MaxAll}} {
		fmt.Fprintf(w, "%-6s %9d %10s %10s %10s %10s\n", x.name, x.p.N, ms(x.p.P50), ms(x.p.P90), ms(x.p.P99), ms(x.max))
	}
	fmt.Fprintf(w, "%.0f commands/s, %.0f requests/s, %d late starts\n", float64(r.Commands)/secs, float64(r.Requests)/secs, r.Late)
	fmt.Fprintf(w, "p99 %s (target ≤ 20ms: %s)\n", ms(r.All.P99), verdict(r.All.N > 0 && r.All.P99 <= 20*time.Millisecond))
	if r.End.RSSKB > 0 {
		fmt.Fprintf(w, "server at the end: RSS %d MiB, peak (VmHWM) %d MiB, %d descriptors\n", r.End.RSSKB/1024, r.End.HWMKB/1024, r.End.FDs)
	}
	fmt.Fprintf(w, "errors: %d commands, %d setup (target 0)\n", r.Errors, r.SetupErrors)
	for msg, n := range r.ErrorKinds {
		fmt.Fprintf(w, "  %d× %s\n", n, msg)
	}
}
