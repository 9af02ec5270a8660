package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate/client"
)

// IdleConfig configures RunIdle: many idle shells on one gateway, for its
// memory per shell.
type IdleConfig struct {
	// BaseURL is the gateway's plain-HTTP root.
	BaseURL string
	// Accounts are the users the shells are spread over, round robin;
	// their tenants' policies must allow Shells/len(Accounts) shells per
	// user and no creation-rate limit.
	Accounts []Account
	// Shells is how many shells to open.
	Shells int
	// Op is the kind of shell: OpWinRS shells or OpPSRP runspace pools.
	Op Op
	// Workers open (and close) the shells concurrently, each over its own
	// keep-alive connection; 0 means 8.
	Workers int
	// Settle is how long the shells stay idle before the server is
	// sampled; 0 means 5s.
	Settle time.Duration
	// Sample reads the server's resources (required).
	Sample func() Usage
	// SharedAddress sends every worker from the default loopback address.
	SharedAddress bool
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// IdleReport is RunIdle's result.
type IdleReport struct {
	Op     Op
	Shells int
	// Open is the latency of opening one shell.
	Open Percentiles
	// OpenTime is how long opening all of them took.
	OpenTime time.Duration
	// Before is the server Settle after the users signed in, before any
	// shell was opened; After with every shell open and idle for Settle.
	Before, After Usage
	// CloseErrors counts shells that failed to close; CloseError is the
	// first failure.
	CloseErrors int64
	CloseError  string
}

// PerShellKB is the server's resident memory growth per open shell.
func (r *IdleReport) PerShellKB() float64 {
	return float64(r.After.RSSKB-r.Before.RSSKB) / float64(r.Shells)
}

// Write prints the report.
func (r *IdleReport) Write(w io.Writer) {
	fmt.Fprintf(w, "%d idle %v shells opened in %v: open p50 %s p90 %s p99 %s\n", r.Shells, r.Op, r.OpenTime.Round(time.Millisecond),
		ms(r.Open.P50), ms(r.Open.P90), ms(r.Open.P99))
	fmt.Fprintf(w, "server RSS: before %d MiB, with the shells %d MiB (VmHWM %d MiB, %d descriptors): %.1f KiB per shell\n",
		r.Before.RSSKB/1024, r.After.RSSKB/1024, r.After.HWMKB/1024, r.After.FDs, r.PerShellKB())
	fmt.Fprintf(w, "close errors: %d (target 0)\n", r.CloseErrors)
	if r.CloseError != "" {
		fmt.Fprintf(w, "  first: %s\n", r.CloseError)
	}
}

// bearer is a fixed access token.
type bearer string

func (b bearer) Token(context.Context, bool) (string, error) { return string(b), nil }

// RunIdle signs the users in, samples the server, opens the shells, lets
// them idle, samples the server again and closes them. It fails on the
// first shell that does not open (after closing the others).
func RunIdle(ctx context.Context, cfg IdleConfig) (*IdleReport, error) {
	if cfg.BaseURL == "" || cfg.Shells <= 0 || len(cfg.Accounts) == 0 || cfg.Sample == nil {
		return nil, errors.New("loadgen: idle run needs a base URL, shells, accounts and a sampler")
	}
	if cfg.Op != OpWinRS && cfg.Op != OpPSRP {
		return nil, fmt.Errorf("loadgen: %v is not a shell kind", cfg.Op)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 5 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	rep := &IdleReport{Op: cfg.Op, Shells: cfg.Shells}
	cfg.Logf("signing in %d users", len(cfg.Accounts))
	tokens, err := signInAll(ctx, cfg.BaseURL, cfg.Accounts, cfg.SharedAddress)
	if err != nil {
		return nil, err
	}
	// Let the sign-ins' garbage (argon2id buffers) settle too.
	pause(ctx, cfg.Settle)
	rep.Before = cfg.Sample()

	hcs := make([]*http.Client, cfg.Workers)
	for w := range hcs {
		hcs[w], _ = newMeteredClient(addr(cfg.SharedAddress, 1, w))
	}
	defer func() {
		for _, hc := range hcs {
			hc.CloseIdleConnections()
		}
	}()
	// The WinRS client of user u on worker w is ws[w][u].
	ws := make([][]*Client, cfg.Workers)
	for w := range ws {
		ws[w] = make([]*Client, len(cfg.Accounts))
		for u, a := range cfg.Accounts {
			ws[w][u] = NewClientHTTP(cfg.BaseURL+"/wsman", a.UPN, "Bearer "+tokens[u], hcs[w])
		}
	}
	shells := make([]string, cfg.Shells)
	pools := make([]*client.Session, cfg.Shells)
	lat := make([][]time.Duration, cfg.Workers)

	// work runs f(w, j) for every shell j on the workers; worker w takes
	// j ≡ w (mod Workers). It stops at the first error.
	work := func(ctx context.Context, f func(ctx context.Context, w, j int) error) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		var done atomic.Int64
		var wg sync.WaitGroup
		for w := range cfg.Workers {
			wg.Go(func() {
				for j := w; j < cfg.Shells && ctx.Err() == nil; j += cfg.Workers {
					if err := f(ctx, w, j); err != nil {
						cancel(fmt.Errorf("shell %d: %w", j, err))
						return
					}
					if n := done.Add(1); n%10000 == 0 {
						cfg.Logf("%d shells", n)
					}
				}
			})
		}
		wg.Wait()
		return context.Cause(ctx)
	}

	cfg.Logf("opening %d idle %v shells over %d connections", cfg.Shells, cfg.Op, cfg.Workers)
	start := time.Now()
	openErr := work(ctx, func(ctx context.Context, w, j int) error {
		u := j % len(cfg.Accounts)
		t := time.Now()
		var err error
		if cfg.Op == OpWinRS {
			shells[j], err = ws[w][u].Create()
		} else {
			pools[j], err = client.Dial(ctx, client.Config{Endpoint: cfg.BaseURL + "/powershell", User: cfg.Accounts[u].UPN,
				Tokens: bearer(tokens[u]), HTTPClient: hcs[w], NoOpenWait: true})
		}
		lat[w] = append(lat[w], time.Since(t))
		return err
	})
	rep.OpenTime = time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	rep.Open = percentiles(all)
	if openErr == nil {
		cfg.Logf("%d shells open in %v; idle for %v", cfg.Shells, rep.OpenTime.Round(time.Millisecond), cfg.Settle)
		pause(ctx, cfg.Settle)
		rep.After = cfg.Sample()
	}

	cfg.Logf("closing the shells")
	var closeErrs atomic.Int64
	var firstClose atomic.Value
	_ = work(context.WithoutCancel(ctx), func(ctx context.Context, w, j int) error {
		var err error
		switch {
		case shells[j] != "":
			err = ws[w][j%len(cfg.Accounts)].Delete(shells[j])
		case pools[j] != nil:
			cctx, cancel := context.WithTimeout(ctx, opTimeout)
			err = pools[j].Close(cctx)
			cancel()
		}
		if err != nil && closeErrs.Add(1) == 1 {
			firstClose.Store(fmt.Sprintf("shell %d: %v", j, err))
		}
		return nil
	})
	rep.CloseErrors = closeErrs.Load()
	if e, ok := firstClose.Load().(string); ok {
		rep.CloseError = e
	}
	if openErr != nil {
		return rep, fmt.Errorf("loadgen: open: %w", openErr)
	}
	return rep, nil
}
