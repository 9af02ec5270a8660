package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/psgate/psgate"
)

// HashLimits bounds the password hashing sign-ins cost. One argon2id
// computation takes its whole memory cost (19 MiB by default) for its
// duration, so the bound is what keeps a flood of password sign-ins from
// exhausting memory and CPU; bearer tokens never hash and never wait here.
type HashLimits struct {
	// Concurrent is the most password hashes computed at once; zero means
	// half of GOMAXPROCS, rounded up, so that at least half the CPUs stay
	// free for token validation and sessions.
	Concurrent int
	// Queue is the most sign-ins waiting for a hash slot; a sign-in
	// beyond it is refused at once with identity.sign-in-busy (503,
	// Retry-After). A waiting sign-in holds no hashing memory, so the
	// queue is for legitimate bursts (a class signing in at once); its
	// length bounds the wait, about Queue/Concurrent hash times. Zero
	// means 64 per slot (about 2.5 s at the default argon2id cost);
	// negative means none wait.
	Queue int
	// PerAddress is the most password checks one client address (an IPv6
	// /64) may have running or waiting, so that one address cannot take
	// the whole queue; beyond it a sign-in is refused at once with
	// identity.too-many-pending (429). Behind a NAT or an unconfigured
	// proxy that address is everyone's. Zero means half of Concurrent plus
	// Queue.
	PerAddress int
	// PerAccount is the most different passwords checked at once for one
	// account, whatever the addresses; beyond, identity.too-many-pending.
	// The same password sent twice at once is checked once. Zero means 2.
	PerAccount int
	// Familiar is the hashes reserved for sign-ins from a familiar
	// location (an address the account signed in from recently). Those
	// sign-ins may use every slot, reserved or shared, and wait in a queue
	// of their own that is served first: a freed slot goes to a waiting
	// familiar sign-in before any stranger. So a flood of strangers'
	// guesses, which fills the shared bound and its queue, never makes the
	// owner wait behind it. Zero means 1; negative reserves none and gives
	// familiar sign-ins no precedence. The most hashes at once is
	// Concurrent + Familiar, of which strangers use at most Concurrent.
	Familiar int
}

func (l HashLimits) withDefaults() HashLimits {
	if l.Concurrent <= 0 {
		l.Concurrent = max(1, (runtime.GOMAXPROCS(0)+1)/2)
	}
	// Negative Queue and Familiar mean none and stay negative, so that
	// applying the defaults twice (service, then credentials) keeps them.
	if l.Queue == 0 {
		l.Queue = 64 * l.Concurrent
	}
	if l.PerAddress <= 0 {
		l.PerAddress = max(1, (l.Concurrent+l.queue())/2)
	}
	if l.PerAccount <= 0 {
		l.PerAccount = 2
	}
	if l.Familiar == 0 {
		l.Familiar = 1
	}
	return l
}

func (l HashLimits) queue() int { return max(0, l.Queue) }

// busyRetry is the Retry-After of a sign-in refused because the hashing
// capacity is taken.
const busyRetry = time.Second

// hashGate is the process-wide bound on concurrent password hashes
// (HashLimits), with two classes of sign-in. A stranger (a sign-in from an
// unfamiliar location) hashes when fewer than `shared` strangers do and a
// slot is free, else waits in a queue of at most `queue`; a familiar
// sign-in hashes in any free slot, else waits in its own queue, which every
// freed slot serves first. Beyond its queue a sign-in is refused at once.
type hashGate struct {
	slots    int // most hashes at once, both classes
	shared   int // most strangers' hashes at once
	queue    int // most strangers waiting
	famQueue int // most familiar sign-ins waiting; 0 when they have no precedence

	mu        sync.Mutex
	running   int // hashes running
	strangers int // of which strangers'
	waitFam   []*hashWaiter
	waitStr   []*hashWaiter
}

// hashWaiter is one sign-in waiting for a slot; ready closes when it is
// given one (granted, under the gate's lock). Its class is the queue it
// waits in.
type hashWaiter struct {
	ready   chan struct{}
	granted bool
}

func newHashGate(l HashLimits) *hashGate {
	g := &hashGate{slots: l.Concurrent, shared: l.Concurrent, queue: l.queue()}
	if l.Familiar > 0 {
		g.slots += l.Familiar
		// Familiar sign-ins may wait as long as strangers, and longer by
		// what their reserved slots serve.
		g.famQueue = l.queue() + 8*l.Familiar
	}
	return g
}

// run calls hash when a slot of the sign-in's class is free. It refuses
// with CodeSignInBusy when the class's queue is full, and gives up when
// ctx ends.
func (g *hashGate) run(ctx context.Context, familiar bool, hash func()) error {
	familiar = familiar && g.famQueue > 0
	g.mu.Lock()
	if g.free(familiar) {
		g.take(familiar)
		g.mu.Unlock()
		defer g.done(familiar)
		hash()
		return nil
	}
	q, limit := &g.waitStr, g.queue
	if familiar {
		q, limit = &g.waitFam, g.famQueue
	}
	if len(*q) >= limit {
		g.mu.Unlock()
		return signInBusy()
	}
	w := &hashWaiter{ready: make(chan struct{})}
	*q = append(*q, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		g.mu.Lock()
		granted := w.granted
		if !granted {
			*q = slices.DeleteFunc(*q, func(x *hashWaiter) bool { return x == w })
		}
		g.mu.Unlock()
		if granted {
			// The slot came as the caller gave up: pass it on.
			g.done(familiar)
		}
		return signInBusy()
	}
	defer g.done(familiar)
	hash()
	return nil
}

// free reports whether a sign-in of the class may hash now; the caller
// holds g.mu. Nobody of the class waits when a slot is free for it, so
// taking it jumps no queue.
func (g *hashGate) free(familiar bool) bool {
	if g.running >= g.slots {
		return false
	}
	return familiar || (g.strangers < g.shared && len(g.waitFam) == 0)
}

func (g *hashGate) take(familiar bool) {
	g.running++
	if !familiar {
		g.strangers++
	}
}

// done gives back a slot and hands the free slots to the waiting: every
// familiar sign-in first, then strangers up to their share.
func (g *hashGate) done(familiar bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if !familiar {
		g.strangers--
	}
	for g.running < g.slots {
		var w *hashWaiter
		switch {
		case len(g.waitFam) > 0:
			w, g.waitFam = g.waitFam[0], g.waitFam[1:]
			g.take(true)
		case len(g.waitStr) > 0 && g.strangers < g.shared:
			w, g.waitStr = g.waitStr[0], g.waitStr[1:]
			g.take(false)
		default:
			return
		}
		w.granted = true
		close(w.ready)
	}
}

func signInBusy() error {
	retry := strconv.Itoa(int(busyRetry / time.Second))
	return psgate.E(psgate.CodeSignInBusy, psgate.Args{"retry": busyRetry.String()}).With("retry_after", retry)
}

func tooManyPending(what, subject string, retry time.Duration) error {
	return psgate.E(psgate.CodeTooManyPending, psgate.Args{"what": what, "subject": subject, "retry": retry.String()}).
		With("retry_after", strconv.Itoa(int(retry/time.Second)))
}

// checks tracks the password checks under way: how many each address and
// account has running or waiting, the check of each (account, password)
// pair in flight so that a concurrent duplicate waits for its answer
// instead of hashing again, and the wrong passwords each account saw
// recently, so that repeating one is answered without hashing and is not
// counted again. Passwords are kept only as an HMAC under a per-process
// random key, for at most the lockout window.
type checks struct {
	secret     [32]byte
	perAddress int
	perAccount int
	remember   time.Duration

	mu       sync.Mutex
	byAddr   map[string]int
	byAcct   map[string]int
	inFlight map[[32]byte]*flight
	wrong    map[string][]wrongPassword
}

type wrongPassword struct {
	tag     [32]byte
	expires time.Time
}

// maxWrongPerAccount is how many recent wrong passwords are remembered per
// account (Entra ID keeps three).
const maxWrongPerAccount = 8

// flight is one password check in progress; done closes when ok is set.
type flight struct {
	done chan struct{}
	ok   bool  // the password is right
	err  error // the check could not be made (busy, cancelled)
}

func newChecks(secret [32]byte, l HashLimits, remember time.Duration) *checks {
	return &checks{
		secret:     secret,
		perAddress: l.PerAddress,
		perAccount: l.PerAccount,
		remember:   remember,
		byAddr:     make(map[string]int),
		byAcct:     make(map[string]int),
		inFlight:   make(map[[32]byte]*flight),
		wrong:      make(map[string][]wrongPassword),
	}
}

// tag is the keyed hash of a password presented for an account whose
// stored hash is stored: a new stored hash (a password reset) makes every
// earlier tag unknown.
func (c *checks) tag(acct, stored, pass string) [32]byte {
	m := hmac.New(sha256.New, c.secret[:])
	for _, s := range []string{acct, stored, pass} {
		m.Write([]byte(strconv.Itoa(len(s))))
		m.Write([]byte{0})
		m.Write([]byte(s))
	}
	var t [32]byte
	m.Sum(t[:0])
	return t
}

// knownWrong reports whether tag is a wrong password the account saw
// within the remembered window.
func (c *checks) knownWrong(acct string, tag [32]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.wrong[acct] {
		if w.tag == tag && now.Before(w.expires) {
			return true
		}
	}
	return false
}

// rememberWrong records a wrong password of the account.
func (c *checks) rememberWrong(acct string, tag [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.wrong[acct]; !ok && len(c.wrong) >= maxCacheEntries {
		c.sweepLocked(now)
		if len(c.wrong) >= maxCacheEntries {
			// Forgetting only costs a hash and a count the next time.
			for k := range c.wrong {
				delete(c.wrong, k)
				if len(c.wrong) < maxCacheEntries/2 {
					break
				}
			}
		}
	}
	ws := c.wrong[acct]
	live := ws[:0]
	for _, w := range ws {
		if now.Before(w.expires) && w.tag != tag {
			live = append(live, w)
		}
	}
	if len(live) >= maxWrongPerAccount {
		live = live[1:]
	}
	c.wrong[acct] = append(live, wrongPassword{tag: tag, expires: now.Add(c.remember)})
}

func (c *checks) sweep(now time.Time) {
	c.mu.Lock()
	c.sweepLocked(now)
	c.mu.Unlock()
}

func (c *checks) sweepLocked(now time.Time) {
	for acct, ws := range c.wrong {
		live := ws[:0]
		for _, w := range ws {
			if now.Before(w.expires) {
				live = append(live, w)
			}
		}
		if len(live) == 0 {
			delete(c.wrong, acct)
		} else {
			c.wrong[acct] = live
		}
	}
}

// begin either joins the check of the same password for the same account
// already in flight (lead false: wait on f.done), or, when the address
// and the account have room, starts one (lead true: call end when done).
// An address or account over its bound gets the refusal to return.
func (c *checks) begin(tag [32]byte, addrKey, acct string, acctName, addr string) (f *flight, lead bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.inFlight[tag]; ok {
		return f, false, nil
	}
	if addrKey != "" && c.byAddr[addrKey] >= c.perAddress {
		return nil, false, tooManyPending("sign-ins", "the client address "+addr, busyRetry)
	}
	if c.byAcct[acct] >= c.perAccount {
		return nil, false, tooManyPending("sign-ins", "the account '"+acctName+"'", busyRetry)
	}
	if addrKey != "" {
		c.byAddr[addrKey]++
	}
	c.byAcct[acct]++
	f = &flight{done: make(chan struct{})}
	c.inFlight[tag] = f
	return f, true, nil
}

// end publishes the result of a check begun as leader.
func (c *checks) end(tag [32]byte, addrKey, acct string, f *flight, ok bool, err error) {
	c.mu.Lock()
	delete(c.inFlight, tag)
	if addrKey != "" {
		if c.byAddr[addrKey]--; c.byAddr[addrKey] <= 0 {
			delete(c.byAddr, addrKey)
		}
	}
	if c.byAcct[acct]--; c.byAcct[acct] <= 0 {
		delete(c.byAcct, acct)
	}
	c.mu.Unlock()
	f.ok, f.err = ok, err
	close(f.done)
}
