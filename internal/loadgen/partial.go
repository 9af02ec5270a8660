package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// PartialConfig configures RunPartial: the security review's half-sent
// message attack (a signed-in user starts PowerShell remoting messages in
// every runspace pool it may open and never finishes them), measured from
// outside against a running server.
type PartialConfig struct {
	// BaseURL is the gateway's plain-HTTP root.
	BaseURL string
	// Attackers sign in (password grant) and each open PoolsPerUser
	// runspace pools; any role that may open a shell will do.
	Attackers []Account
	// PoolsPerUser is the pools each attacker opens; 0 means 3, the
	// default per-user shell limit.
	PoolsPerUser int
	// Blob is the size of one fragment (one per Send) of the message each
	// pool grows; 0 means 256 KiB, well inside the default envelope limit.
	Blob int
	// GiveUp ends the attack once the server has accepted this many bytes
	// in all without refusing every pool (a server without budgets would
	// otherwise be driven out of memory); 0 means 8 GiB.
	GiveUp int64
	// Bystander, when set, is a user of another tenant who runs a WinRS
	// command round trip every 100 ms while the attack runs.
	Bystander *Account
	// Sample reads the server's memory; nil reports zeros.
	Sample func() Usage
	// Logf logs progress; nil is silent.
	Logf func(format string, args ...any)
}

// PartialReport is what RunPartial measured.
type PartialReport struct {
	// Before, Peak and After are the server's usage before the attack,
	// at its highest (RSS sampled every 100 ms; HWM is the kernel's peak)
	// and once every pool is closed again.
	Before, Peak, After Usage
	// Pools is how many pools were opened; Accepted the bytes of
	// unfinished messages the server took before refusing.
	Pools    int
	Accepted int64
	// Refused counts the refusals by the budget they named (shell, user,
	// tenant, process, or "message" for the bounds on one message's size
	// and on the messages in progress); Unrefused the pools still sending at GiveUp.
	Refused   map[string]int
	Unrefused int
	// Unexpected lists answers that were neither accepted nor refused by
	// a budget, and bystander failures.
	Unexpected []string
	// Bystander holds the round-trip latencies of the other tenant's
	// user during the attack.
	Bystander Percentiles
	Took      time.Duration
}

// Write prints the report as the bench tool shows it.
func (r PartialReport) Write(w io.Writer) {
	mib := func(kb int64) float64 { return float64(kb) / 1024 }
	fmt.Fprintf(w, "half-sent message attack: %d pools, %.0f MiB of unfinished messages accepted in %v\n",
		r.Pools, float64(r.Accepted)/(1<<20), r.Took.Round(time.Millisecond))
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Refused)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Refused[k]))
	}
	fmt.Fprintf(w, "refusals by budget: %s; pools never refused: %d\n", strings.Join(parts, ", "), r.Unrefused)
	fmt.Fprintf(w, "server RSS: before %.0f MiB, peak %.0f MiB (VmHWM %.0f MiB), after closing %.0f MiB\n",
		mib(r.Before.RSSKB), mib(r.Peak.RSSKB), mib(r.Peak.HWMKB), mib(r.After.RSSKB))
	if r.Bystander.N > 0 {
		fmt.Fprintf(w, "another tenant's user meanwhile: %d round trips, p50 %v, p99 %v\n",
			r.Bystander.N, r.Bystander.P50.Round(10*time.Microsecond), r.Bystander.P99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(w, "unexpected answers: %d\n", len(r.Unexpected))
	for i, u := range r.Unexpected {
		if i == 10 {
			fmt.Fprintf(w, "  … %d more\n", len(r.Unexpected)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", u)
	}
}

// staticToken is a client.TokenSource of one access token.
type staticToken string

func (t staticToken) Token(context.Context, bool) (string, error) { return string(t), nil }

// partialPool is one attacker's pool and where its messages stand.
type partialPool struct {
	upn, token string
	hc         *http.Client
	ps         *client.Session
}

// RunPartial signs the attackers in, opens their pools, then sends from
// every pool at once unfinished messages until the server refuses each
// pool, sampling the server's memory throughout; then it closes the pools
// and samples again.
func RunPartial(ctx context.Context, cfg PartialConfig) (PartialReport, error) {
	if cfg.PoolsPerUser <= 0 {
		cfg.PoolsPerUser = 3
	}
	if cfg.Blob <= 0 {
		cfg.Blob = 256 << 10
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = 8 << 30
	}
	if cfg.Sample == nil {
		cfg.Sample = func() Usage { return Usage{} }
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	rep := PartialReport{Refused: map[string]int{}}
	tokens, err := signInAll(ctx, cfg.BaseURL, cfg.Attackers, false)
	if err != nil {
		return rep, err
	}
	pools := make([]*partialPool, len(cfg.Attackers)*cfg.PoolsPerUser)
	err = each(ctx, len(pools), func(ctx context.Context, i int) error {
		a := i / cfg.PoolsPerUser
		hc, _ := newMeteredClient(addr(false, 3, i))
		p := &partialPool{upn: cfg.Attackers[a].UPN, token: tokens[a], hc: hc}
		var err error
		p.ps, err = client.Dial(ctx, client.Config{Endpoint: cfg.BaseURL + "/powershell", User: p.upn,
			Tokens: staticToken(p.token), HTTPClient: hc, NoOpenWait: true})
		if err != nil {
			return fmt.Errorf("%s: open pool %d: %w", p.upn, i%cfg.PoolsPerUser, err)
		}
		pools[i] = p
		return nil
	})
	defer func() {
		for _, p := range pools {
			if p != nil {
				p.hc.CloseIdleConnections()
			}
		}
	}()
	if err != nil {
		return rep, err
	}
	rep.Pools = len(pools)
	rep.Before = cfg.Sample()
	rep.Peak = rep.Before
	cfg.Logf("%d pools open; server RSS %d MiB; sending unfinished messages of %d KiB", len(pools), rep.Before.RSSKB>>10, cfg.Blob>>10)

	var (
		mu       sync.Mutex
		accepted atomic.Int64
		wg       sync.WaitGroup
	)
	note := func(refusal, unexpected string) {
		mu.Lock()
		defer mu.Unlock()
		if refusal != "" {
			rep.Refused[refusal]++
		}
		if unexpected != "" {
			rep.Unexpected = append(rep.Unexpected, unexpected)
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for t := time.NewTicker(100 * time.Millisecond); ; {
			u := cfg.Sample()
			mu.Lock()
			rep.Peak.RSSKB = max(rep.Peak.RSSKB, u.RSSKB)
			rep.Peak.HWMKB = max(rep.Peak.HWMKB, u.HWMKB)
			rep.Peak.FDs = max(rep.Peak.FDs, u.FDs)
			mu.Unlock()
			select {
			case <-sampleCtx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	var by []time.Duration // the bystander's, read after stopBystander
	bctx, stopBystander := context.WithCancel(ctx)
	defer func() { stopBystander(); wg.Wait() }()
	if cfg.Bystander != nil {
		bc := newCapClient(len(pools), *cfg.Bystander, cfg.BaseURL, false)
		if err := bc.open(ctx, OpWinRS); err != nil {
			return rep, fmt.Errorf("bystander: %w", err)
		}
		wg.Go(func() {
			defer bc.close(context.WithoutCancel(bctx))
			for pause(bctx, 100*time.Millisecond) {
				t0 := time.Now()
				if err := bc.command(bctx, OpWinRS); err != nil {
					if bctx.Err() == nil {
						note("", fmt.Sprintf("bystander %s: %v", bc.acct.UPN, err))
					}
					continue
				}
				by = append(by, time.Since(t0))
			}
		})
	}

	start := time.Now()
	var attack sync.WaitGroup
	for _, p := range pools {
		attack.Go(func() {
			blob := make([]byte, cfg.Blob)
			_, _ = rand.Read(blob)
			// One message per pool, started and then grown a fragment at
			// a time, never ended: the count of messages in progress
			// stays at one, so only the byte budgets can stop it.
			for n := uint64(0); ctx.Err() == nil; n++ {
				frag := psrp.Fragment{ObjectID: 1, FragmentID: n, Start: n == 0, Blob: blob}.AppendEncode(nil)
				refusal, unexpected := p.send(ctx, cfg.BaseURL, frag)
				if refusal == "" && unexpected == "" {
					if accepted.Add(int64(len(blob))) > cfg.GiveUp {
						mu.Lock()
						rep.Unrefused++
						mu.Unlock()
						return
					}
					continue
				}
				note(refusal, unexpected)
				return
			}
		})
	}
	attack.Wait()
	rep.Took = time.Since(start)
	rep.Accepted = accepted.Load()
	time.Sleep(300 * time.Millisecond) // one more sample at the top
	stopBystander()
	wg.Wait()
	rep.Bystander = Summarise(by)
	cfg.Logf("every pool refused after %v; closing the pools", rep.Took.Round(time.Millisecond))

	// Close every pool; those the server closed on refusal are gone
	// already, as it said.
	_ = each(context.WithoutCancel(ctx), len(pools), func(ctx context.Context, i int) error {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		// A refused shell answers with the reason it was closed for.
		if err := pools[i].ps.Close(cctx); err != nil && !strings.Contains(err.Error(), string(psgate.CodeShellNotFound)) &&
			!strings.Contains(err.Error(), string(psgate.CodePartialBudget)) && !strings.Contains(err.Error(), string(psgate.CodeBadFragment)) {
			note("", fmt.Sprintf("%s: close: %v", pools[i].upn, err))
		}
		return nil
	})
	time.Sleep(2 * time.Second) // let the server's collector run
	stopSampling()
	<-sampled
	rep.After = cfg.Sample()
	return rep, nil
}

// send posts one pool-level Send carrying frag and classifies the answer:
// accepted (both empty), refused by a named budget, or unexpected.
func (p *partialPool) send(ctx context.Context, base string, frag []byte) (refusal, unexpected string) {
	id, err := wsman.NewMessageID(rand.Reader)
	if err != nil {
		return "", err.Error()
	}
	body := wsman.EncodeSendRequest(wsman.Request{
		To: base + "/powershell", ResourceURI: wsman.PowerShellResourcePrefix + "Microsoft.PowerShell",
		MessageID: id, ShellID: p.ps.ID(), MaxEnvelopeSize: wsman.DefaultMaxEnvelopeSize, OperationTimeout: 20 * time.Second,
	}, wsman.Stream{Name: "stdin", Data: frag})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/powershell", bytes.NewReader(body))
	if err != nil {
		return "", err.Error()
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.upn+":Bearer "+p.token)))
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", fmt.Sprintf("%s: %v", p.upn, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return "", ""
	}
	f, err := wsman.DecodeFault(b)
	if err != nil {
		return "", fmt.Sprintf("%s: HTTP %d: %.300s", p.upn, resp.StatusCode, b)
	}
	switch psgate.Code(f.ErrorCode) {
	case psgate.CodeBadFragment:
		if strings.Contains(f.Reason, "message too large") || strings.Contains(f.Reason, "messages in progress") {
			return "message", "" // the per-message bounds, below every budget
		}
	case psgate.CodePartialBudget:
		for _, budget := range []string{"shell", "user", "tenant", "process"} {
			if strings.Contains(f.Reason, "per-"+budget+" budget") {
				return budget, ""
			}
		}
		return "unnamed", ""
	}
	return "", fmt.Sprintf("%s: HTTP %d: %s (%s)", p.upn, resp.StatusCode, f.Reason, f.ErrorCode)
}
