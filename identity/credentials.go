package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// LockoutPolicy limits password guessing in the shape of Microsoft Entra
// ID's smart lockout. Failures are counted per account, never per
// spelling of its name (see NormalizeUser), and separately for familiar
// and unfamiliar locations: a client address the account signed in from
// successfully within FamiliarFor is familiar. A stranger's failures lock
// the account for unfamiliar locations only, so the owner keeps signing
// in from a familiar place. A wrong password repeated within Window is
// counted once. A lock lasts LockFor, and each further lock within
// LockMemory lasts twice as long as the one before, up to MaxLockFor.
// Failures from unfamiliar locations are also counted per client address
// (an IPv6 /64), across accounts. Unknown user names are counted and
// locked exactly like real ones, so a lockout reveals nothing.
type LockoutPolicy struct {
	// AccountThreshold is the number of different wrong passwords from
	// unfamiliar locations that locks an account for them; zero means 5.
	AccountThreshold int
	// FamiliarThreshold is the number of different wrong passwords from
	// familiar locations that locks an account for them; zero means
	// AccountThreshold.
	FamiliarThreshold int
	// AddressThreshold is the number of failures from unfamiliar
	// locations that blocks a client address (an IPv6 /64); zero means 20.
	AddressThreshold int
	// Window is how long failures and wrong passwords are remembered;
	// zero means 15 minutes.
	Window time.Duration
	// LockFor is how long a first lock lasts; zero means 1 minute.
	LockFor time.Duration
	// MaxLockFor caps the doubling of repeated locks; zero means 1 hour.
	MaxLockFor time.Duration
	// LockMemory is how long locks are remembered for doubling; zero
	// means 24 hours.
	LockMemory time.Duration
	// FamiliarFor is how long an address stays familiar after a
	// successful sign-in from it; zero means 30 days.
	FamiliarFor time.Duration
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.AccountThreshold <= 0 {
		p.AccountThreshold = 5
	}
	if p.FamiliarThreshold <= 0 {
		p.FamiliarThreshold = p.AccountThreshold
	}
	if p.AddressThreshold <= 0 {
		p.AddressThreshold = 20
	}
	setDefault(&p.Window, 15*time.Minute)
	setDefault(&p.LockFor, time.Minute)
	setDefault(&p.MaxLockFor, time.Hour)
	setDefault(&p.LockMemory, 24*time.Hour)
	setDefault(&p.FamiliarFor, 30*24*time.Hour)
	p.MaxLockFor = max(p.MaxLockFor, p.LockFor)
	return p
}

// remembered is how long a failure count matters after it began: the
// longest window any count uses. A row older than that whose lock has
// ended can go (familiar-address rows live until their lock ends).
func (p LockoutPolicy) remembered() time.Duration {
	return max(p.Window, p.LockMemory)
}

// lockFor is how long the n-th lock (n ≥ 1) within LockMemory lasts.
func (p LockoutPolicy) lockFor(n int) time.Duration {
	d := p.LockFor
	for i := 1; i < n && d < p.MaxLockFor; i++ {
		d *= 2
	}
	return min(d, p.MaxLockFor)
}

// Keys in the store's lockout table. Beside failure counters it holds
// expiring marks: a key "locked" until a time is a mark until then.
const (
	suffixUnfamiliar = "/unfamiliar" // failures from unfamiliar locations
	suffixFamiliar   = "/familiar"   // failures from familiar locations
	suffixLevel      = "/level"      // locks within LockMemory, for doubling
	prefixFamiliar   = "familiar:"   // mark: account + address signed in recently
	prefixDeviceCode = "d:"          // wrong device codes per address
)

func familiarKey(acct, addrKey string) string { return prefixFamiliar + acct + "|" + addrKey }

// credConfig configures credentials.
type credConfig struct {
	dir    Directory
	locks  Lockouts // nil disables throttling (tests only)
	policy LockoutPolicy
	dummy  password.Params
	limits HashLimits
	audit  Auditor
	now    func() time.Time
	log    *slog.Logger
	obs    Observer // nil observes nothing
}

// credentials checks directory passwords and application secrets under
// the process's hashing bounds, with smart lockout. It is shared by the
// gateway's Basic password path, the password grant, the device
// verification page and client authentication; the counters live in the
// store, so every node and every entry point sees the same locks.
type credentials struct {
	dir    Directory
	locks  Lockouts
	policy LockoutPolicy
	dummy  password.Params
	gate   *hashGate
	checks *checks
	audit  Auditor
	now    func() time.Time
	log    *slog.Logger
	obs    Observer

	// verify and burn are password.Verify and password.Dummy; tests
	// observe hashing through them.
	verify func(pw, encoded string) (bool, error)
	burn   func(pw string, p password.Params)
}

func newCredentials(cfg credConfig) (*credentials, error) {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("identity: password tag key: %w", err)
	}
	policy := cfg.policy.withDefaults()
	limits := cfg.limits.withDefaults()
	return &credentials{
		dir:    cfg.dir,
		locks:  cfg.locks,
		policy: policy,
		dummy:  cfg.dummy,
		gate:   newHashGate(limits),
		checks: newChecks(secret, limits, policy.Window),
		audit:  cfg.audit,
		now:    cfg.now,
		log:    cfg.log,
		obs:    cfg.obs,
		verify: password.Verify,
		burn:   password.Dummy,
	}, nil
}

// location is what the lockout knows about where a sign-in comes from.
type location struct {
	addr    string // as the client sent it, for messages
	addrKey string
	// familiar is set when the account signed in from this address
	// within FamiliarFor; until is when that ends.
	familiar bool
	until    time.Time
	// What refuses a sign-in from here before any hashing (zero when
	// nothing): the address's block, which a familiar location ignores
	// (its owner is not the one guessing), and the account's lock for
	// this kind of location.
	blocked, locked time.Time
}

func (l location) suffix() string {
	if l.familiar {
		return suffixFamiliar
	}
	return suffixUnfamiliar
}

// check verifies the password of user (as typed: any spelling of a UPN or
// TENANT\user) sent from the client address addr through the entry point
// via. It returns the user and their tenant, or a *psgate.Error:
// CodeLogonFailed for an unknown user, a wrong password, an account
// without a password or a disabled account (all alike, and all costing
// one argon2id computation unless the same wrong password was just
// tried); CodeAccountLocked or CodeSignInThrottled while locked;
// CodeSignInBusy or CodeTooManyPending when the hashing bounds refuse it
// (not counted as a failure); CodeStoreDown.
func (c *credentials) check(ctx context.Context, user, pass, addr, via string) (store.User, store.Tenant, error) {
	if pass == "" {
		// No credential at all: nothing was guessed, nothing is counted.
		return store.User{}, store.Tenant{}, logonFailed(user)
	}
	acct, err := resolve(ctx, c.dir, user)
	if err != nil {
		return store.User{}, store.Tenant{}, storeError(err)
	}
	now := c.now()
	loc, err := c.locate(ctx, acct, addr, now)
	if err != nil {
		return store.User{}, store.Tenant{}, err
	}
	if err := loc.refusal(user, now); err != nil {
		return store.User{}, store.Tenant{}, err
	}
	ok, fresh, err := c.verifySecret(ctx, acct.key, user, acct.user.PasswordHash, pass, loc)
	if err != nil {
		return store.User{}, store.Tenant{}, err
	}
	if !ok || !acct.known || !acct.user.Enabled {
		if !fresh {
			// The same wrong password again, or the answer of an
			// identical request in flight: counted once already.
			return store.User{}, store.Tenant{}, logonFailed(user)
		}
		reason := "wrong password"
		switch {
		case !acct.known:
			reason = "unknown user name"
		case acct.user.PasswordHash == "":
			reason = "the account has no password"
		case ok:
			reason = "the account is disabled"
		}
		return store.User{}, store.Tenant{}, c.fail(ctx, acct, user, loc, via, reason)
	}
	if err := c.succeeded(ctx, acct, loc, now); err != nil {
		return store.User{}, store.Tenant{}, err
	}
	t, err := c.dir.Tenant(ctx, acct.user.TenantID)
	if err != nil {
		return store.User{}, store.Tenant{}, storeError(err)
	}
	return acct.user, t, nil
}

// locate reads, in one store read, whether addr is familiar to the
// account and the locks that may refuse the sign-in: the address's block
// and the account's lock for each kind of location. Unknown names cost the
// same read.
func (c *credentials) locate(ctx context.Context, acct account, addr string, now time.Time) (location, error) {
	loc := location{addr: addr, addrKey: addressKey(addr)}
	if c.locks == nil {
		return loc, nil
	}
	keys := []string{acct.key + suffixUnfamiliar, acct.key + suffixFamiliar}
	if loc.addrKey != "" {
		keys = append(keys, familiarKey(acct.key, loc.addrKey), loc.addrKey)
	}
	t, err := c.locks.LoginLocksUntil(ctx, now, keys...)
	if err != nil {
		return location{}, storeError(err)
	}
	if loc.addrKey != "" {
		loc.familiar, loc.until = !t[2].IsZero(), t[2]
	}
	loc.locked = t[0]
	if loc.familiar {
		loc.locked = t[1]
	} else if loc.addrKey != "" {
		loc.blocked = t[3]
	}
	return loc, nil
}

// refusal refuses, without looking at the password, while the address is
// blocked or the account locked for this kind of location.
func (l location) refusal(user string, now time.Time) error {
	if !l.blocked.IsZero() {
		return throttled(l.addr, l.blocked, now)
	}
	if !l.locked.IsZero() {
		return accountLocked(user, l.locked, now)
	}
	return nil
}

// verifySecret checks secret against the stored argon2id hash (or burns
// the cost of one when stored is empty) for the account or application
// key, under the process's hashing bounds. fresh is false when the answer
// did not come from a hash made for this request: a wrong secret the key
// saw within the lockout window, or the result of the same check already
// in flight. Such answers must not be counted again.
func (c *credentials) verifySecret(ctx context.Context, key, name, stored, secret string, loc location) (ok, fresh bool, err error) {
	tag := c.checks.tag(key, stored, secret)
	if c.checks.knownWrong(key, tag, c.now()) {
		return false, false, nil
	}
	f, lead, err := c.checks.begin(tag, loc.addrKey, key, name, loc.addr)
	if err != nil {
		return false, false, err
	}
	if !lead {
		select {
		case <-f.done:
		case <-ctx.Done():
			return false, false, signInBusy()
		}
		return f.ok, false, f.err
	}
	hash := func() { ok = c.hashCheck(stored, secret) }
	herr := c.gate.run(ctx, loc.familiar, hash)
	c.checks.end(tag, loc.addrKey, key, f, ok, herr)
	if herr != nil {
		return false, false, herr
	}
	if !ok {
		c.checks.rememberWrong(key, tag, c.now())
	}
	return ok, true, nil
}

// hashCheck is one argon2id computation: against the stored hash, or a
// dummy one of the same cost when there is none or it is malformed.
func (c *credentials) hashCheck(stored, secret string) bool {
	if stored != "" {
		ok, err := c.verify(secret, stored)
		if err == nil {
			return ok
		}
	}
	c.burn(secret, c.dummy)
	return false
}

// fail counts a failure against the account (for this kind of location)
// and, from an unfamiliar location, the address, audits it, and returns
// the error to show: the lock when this failure caused one, else logon
// failed.
func (c *credentials) fail(ctx context.Context, acct account, user string, loc location, via, reason string) error {
	now := c.now()
	// The typed name is logged only when it is a real account: a
	// password typed into the user name field must not reach the log.
	if acct.known {
		c.log.Info("sign-in failed", logkey.User, acct.user.UPN, logkey.Client, loc.addr, "familiar", loc.familiar, "via", via, logkey.Reason, reason)
	} else {
		c.log.Info("sign-in failed for an unknown user", logkey.Client, loc.addr, "via", via)
	}
	result := logonFailed(user)
	code := psgate.CodeLogonFailed
	detail := reason
	defer func() {
		f := signInFailure{addr: loc.addr, via: via, code: code, detail: detail}
		if acct.known {
			f.tenantID, f.userID, f.upn = acct.user.TenantID, acct.user.ID, acct.user.UPN
		}
		auditFailure(ctx, c.audit, c.log, now, f)
	}()
	if c.locks == nil {
		return result
	}
	p := c.policy
	threshold := p.AccountThreshold
	if loc.familiar {
		threshold = p.FamiliarThreshold
	}
	acctUntil, err := c.count(ctx, acct.key+loc.suffix(), threshold, now)
	if err != nil {
		return storeError(err)
	}
	if !loc.familiar && loc.addrKey != "" {
		addrUntil, err := c.count(ctx, loc.addrKey, p.AddressThreshold, now)
		if err != nil {
			return storeError(err)
		}
		if !addrUntil.IsZero() {
			c.observeLock(lockAddress)
			c.log.Warn("client address blocked after repeated failed sign-ins", logkey.Client, loc.addr, "until", addrUntil)
			code, detail = psgate.CodeSignInThrottled, reason+"; the address is blocked until "+addrUntil.UTC().Format(time.RFC3339)
			result = throttled(loc.addr, addrUntil, now)
		}
	}
	if !acctUntil.IsZero() {
		c.observeLock(lockAccount)
		if acct.known {
			c.log.Warn("account locked after repeated failed sign-ins", logkey.User, acct.user.UPN, "familiar", loc.familiar, "until", acctUntil)
		}
		if code == psgate.CodeLogonFailed {
			code, detail = psgate.CodeAccountLocked, reason+"; the account is locked until "+acctUntil.UTC().Format(time.RFC3339)
			result = accountLocked(user, acctUntil, now)
		}
	}
	return result
}

// count records a failure against key and returns when the lock it caused
// ends (zero when it caused none). The n-th lock within LockMemory lasts
// policy.lockFor(n).
func (c *credentials) count(ctx context.Context, key string, threshold int, now time.Time) (time.Time, error) {
	p := c.policy
	f, err := c.locks.RecordLoginFailure(ctx, key, now, p.Window, threshold, p.LockFor)
	if err != nil {
		return time.Time{}, err
	}
	// Reaching the threshold starts a new count: Failures 0 with a lock
	// means that this failure locked the key.
	if f.LockedUntil.IsZero() || f.Failures != 0 {
		return f.LockedUntil, nil
	}
	level, err := c.locks.RecordLoginFailure(ctx, key+suffixLevel, now, p.LockMemory, math.MaxInt32, p.LockFor)
	if err != nil {
		return time.Time{}, err
	}
	d := p.lockFor(level.Failures)
	if d <= p.LockFor {
		return f.LockedUntil, nil
	}
	f, err = c.locks.RecordLoginFailure(ctx, key, now, p.Window, 1, d)
	if err != nil {
		return time.Time{}, err
	}
	return f.LockedUntil, nil
}

// succeeded clears the failures of the sign-in's kind of location, and
// makes (or keeps) the address familiar.
func (c *credentials) succeeded(ctx context.Context, acct account, loc location, now time.Time) error {
	if c.locks == nil {
		return nil
	}
	if err := c.locks.ClearLoginFailures(ctx, acct.key+loc.suffix()); err != nil {
		return storeError(err)
	}
	ttl := c.policy.FamiliarFor
	if loc.addrKey == "" || loc.familiar && loc.until.Sub(now) > ttl/2 {
		return nil
	}
	if _, err := c.locks.RecordLoginFailure(ctx, familiarKey(acct.key, loc.addrKey), now, ttl, 1, ttl); err != nil {
		return storeError(err)
	}
	return nil
}

// failDeviceCode counts a wrong device user code against the address. It
// has its own budget: guessing codes blocks code entry from the address,
// never its sign-ins or token refreshes.
func (c *credentials) failDeviceCode(ctx context.Context, addr string) error {
	key := addressKey(addr)
	if c.locks == nil || key == "" {
		return nil
	}
	now := c.now()
	until, err := c.count(ctx, prefixDeviceCode+key, c.policy.AddressThreshold, now)
	if err != nil {
		return storeError(err)
	}
	if !until.IsZero() {
		c.observeLock(lockDeviceCode)
		return throttled(addr, until, now)
	}
	return nil
}

// observeLock tells the Observer, if any, that a lock started.
func (c *credentials) observeLock(scope string) {
	if c.obs != nil {
		c.obs.Lockout(scope)
	}
}

// deviceCodeLocked refuses code entry from an address that guessed too
// many codes.
func (c *credentials) deviceCodeLocked(ctx context.Context, addr string) error {
	return c.keyLocked(ctx, prefixDeviceCode+addressKey(addr), addr)
}

// addressLocked refuses a blocked address before any hashing.
func (c *credentials) addressLocked(ctx context.Context, addr string) error {
	return c.keyLocked(ctx, addressKey(addr), addr)
}

func (c *credentials) keyLocked(ctx context.Context, key, addr string) error {
	if c.locks == nil || key == "" || key == prefixDeviceCode {
		return nil
	}
	now := c.now()
	t, err := c.locks.LoginLocksUntil(ctx, now, key)
	if err != nil {
		return storeError(err)
	}
	if !t[0].IsZero() {
		return throttled(addr, t[0], now)
	}
	return nil
}

// failAddress counts a failed application authentication against the
// address.
func (c *credentials) failAddress(ctx context.Context, addr string) error {
	key := addressKey(addr)
	if c.locks == nil || key == "" {
		return nil
	}
	now := c.now()
	until, err := c.count(ctx, key, c.policy.AddressThreshold, now)
	if err != nil {
		return storeError(err)
	}
	if !until.IsZero() {
		return throttled(addr, until, now)
	}
	return nil
}

// Unlock clears the failed sign-ins and locks of the account u, for both
// kinds of location, as the operator's `psgate user unlock` does. It
// returns when the longest lock would have ended (zero when the account
// was not locked).
func Unlock(ctx context.Context, locks Lockouts, u store.User, now time.Time) (time.Time, error) {
	key := accountKey(u.ID)
	keys := []string{key + suffixUnfamiliar, key + suffixFamiliar}
	locked, err := locks.LoginLocksUntil(ctx, now, keys...)
	if err != nil {
		return time.Time{}, fmt.Errorf("identity: unlock %s: %w", u.UPN, err)
	}
	var until time.Time
	for i, k := range keys {
		if locked[i].After(until) {
			until = locked[i]
		}
		for _, clear := range []string{k, k + suffixLevel} {
			if err := locks.ClearLoginFailures(ctx, clear); err != nil {
				return time.Time{}, fmt.Errorf("identity: unlock %s: %w", u.UPN, err)
			}
		}
	}
	return until, nil
}

func logonFailed(user string) error {
	return psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": user})
}

func accountLocked(user string, until, now time.Time) error {
	return psgate.E(psgate.CodeAccountLocked, psgate.Args{
		"upn":       user,
		"until":     until.UTC().Format(time.RFC3339),
		"remaining": remaining(until, now),
	}).With("locked_until", until.UTC().Format(time.RFC3339)).With("retry_after", retryAfter(until, now))
}

func throttled(addr string, until, now time.Time) error {
	return psgate.E(psgate.CodeSignInThrottled, psgate.Args{
		"address":   addr,
		"until":     until.UTC().Format(time.RFC3339),
		"remaining": remaining(until, now),
	}).With("locked_until", until.UTC().Format(time.RFC3339)).With("retry_after", retryAfter(until, now))
}

func remaining(until, now time.Time) string {
	d := until.Sub(now).Round(time.Second)
	return max(d, time.Second).String()
}

func retryAfter(until, now time.Time) string {
	return fmt.Sprint(int64(max(until.Sub(now), time.Second).Round(time.Second) / time.Second))
}
