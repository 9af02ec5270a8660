package identity

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// LockoutPolicy limits password guessing. Failures are counted per
// account and per client address; reaching a threshold within Window
// blocks that account or address for LockFor. Unknown user names are
// counted and locked exactly like real ones, so a lockout reveals nothing.
type LockoutPolicy struct {
	// AccountThreshold is the number of failures that locks an account;
	// zero means 5.
	AccountThreshold int
	// AddressThreshold is the number of failures that blocks a client
	// address (an IPv6 /64); zero means 20.
	AddressThreshold int
	// Window is how long failures are remembered; zero means 15 minutes.
	Window time.Duration
	// LockFor is how long a lock lasts; zero means 15 minutes.
	LockFor time.Duration
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.AccountThreshold <= 0 {
		p.AccountThreshold = 5
	}
	if p.AddressThreshold <= 0 {
		p.AddressThreshold = 20
	}
	if p.Window <= 0 {
		p.Window = 15 * time.Minute
	}
	if p.LockFor <= 0 {
		p.LockFor = 15 * time.Minute
	}
	return p
}

// credentials checks directory passwords with throttling. It is shared by
// the gateway's Basic password path, the password grant and the device
// verification page; the counters live in the store, so every node and
// every entry point sees the same lockouts.
type credentials struct {
	dir    Directory
	locks  Lockouts // nil disables throttling
	policy LockoutPolicy
	dummy  password.Params
	now    func() time.Time
	log    *slog.Logger
}

// check verifies the password of user (as typed: UPN or TENANT\name) sent
// from the client address addr. It returns the user and their tenant, or
// a *psgate.Error: CodeLogonFailed for an unknown user, a wrong password,
// an account without a password or a disabled account (all alike, and all
// costing one argon2id computation); CodeAccountLocked or
// CodeSignInThrottled while locked; CodeStoreDown.
func (c *credentials) check(ctx context.Context, user, pass, addr string) (store.User, store.Tenant, error) {
	upn, nerr := NormalizeUser(ctx, c.dir, user)
	if nerr != nil && !errors.Is(nerr, store.ErrNotFound) {
		return store.User{}, store.Tenant{}, storeError(nerr)
	}
	accountKey, addrKey := "u:"+upn, addressKey(addr)
	if err := c.locked(ctx, user, addr, accountKey, addrKey); err != nil {
		return store.User{}, store.Tenant{}, err
	}
	var u store.User
	known := false
	if nerr == nil {
		var err error
		u, err = c.dir.UserByUPN(ctx, upn)
		switch {
		case err == nil:
			known = true
		case !errors.Is(err, store.ErrNotFound):
			return store.User{}, store.Tenant{}, storeError(err)
		}
	}
	ok := false
	if known && u.PasswordHash != "" {
		var verr error
		ok, verr = password.Verify(pass, u.PasswordHash)
		if verr != nil {
			// A malformed stored hash fails like a wrong password, and
			// costs as much.
			password.Dummy(pass, c.dummy)
		}
	} else {
		password.Dummy(pass, c.dummy)
	}
	if !ok || !u.Enabled {
		return store.User{}, store.Tenant{}, c.fail(ctx, user, addr, accountKey, addrKey, known)
	}
	if c.locks != nil {
		if err := c.locks.ClearLoginFailures(ctx, accountKey); err != nil {
			return store.User{}, store.Tenant{}, storeError(err)
		}
	}
	t, err := c.dir.Tenant(ctx, u.TenantID)
	if err != nil {
		return store.User{}, store.Tenant{}, storeError(err)
	}
	return u, t, nil
}

// locked refuses while the account or the address is locked, without
// looking at the password.
func (c *credentials) locked(ctx context.Context, user, addr, accountKey, addrKey string) error {
	if c.locks == nil {
		return nil
	}
	now := c.now()
	if addrKey != "" {
		until, err := c.locks.LoginLockedUntil(ctx, addrKey, now)
		if err != nil {
			return storeError(err)
		}
		if !until.IsZero() {
			return throttled(addr, until, now)
		}
	}
	until, err := c.locks.LoginLockedUntil(ctx, accountKey, now)
	if err != nil {
		return storeError(err)
	}
	if !until.IsZero() {
		return accountLocked(user, until, now)
	}
	return nil
}

// fail counts a failure against the account and the address and returns
// the error to show: the lock when this failure caused one, else
// logon failed.
func (c *credentials) fail(ctx context.Context, user, addr, accountKey, addrKey string, known bool) error {
	logonFailed := psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": user})
	// The typed name is logged only when it is a real account: a
	// password typed into the user name field must not reach the log.
	if known {
		c.log.Info("sign-in failed", "upn", strings.TrimPrefix(accountKey, "u:"), "client", addr)
	} else {
		c.log.Info("sign-in failed for an unknown user", "client", addr)
	}
	if c.locks == nil {
		return logonFailed
	}
	now := c.now()
	p := c.policy
	acct, err := c.locks.RecordLoginFailure(ctx, accountKey, now, p.Window, p.AccountThreshold, p.LockFor)
	if err != nil {
		return storeError(err)
	}
	if addrKey != "" {
		a, err := c.locks.RecordLoginFailure(ctx, addrKey, now, p.Window, p.AddressThreshold, p.LockFor)
		if err != nil {
			return storeError(err)
		}
		if !a.LockedUntil.IsZero() {
			c.log.Warn("client address blocked after repeated failed sign-ins", "client", addr, "until", a.LockedUntil)
			return throttled(addr, a.LockedUntil, now)
		}
	}
	if !acct.LockedUntil.IsZero() {
		if known {
			c.log.Warn("account locked after repeated failed sign-ins", "upn", strings.TrimPrefix(accountKey, "u:"), "until", acct.LockedUntil)
		}
		return accountLocked(user, acct.LockedUntil, now)
	}
	return logonFailed
}

// failAddress counts a failure that names no account (a wrong device
// code) against the address.
func (c *credentials) failAddress(ctx context.Context, addr string) error {
	key := addressKey(addr)
	if c.locks == nil || key == "" {
		return nil
	}
	now := c.now()
	p := c.policy
	a, err := c.locks.RecordLoginFailure(ctx, key, now, p.Window, p.AddressThreshold, p.LockFor)
	if err != nil {
		return storeError(err)
	}
	if !a.LockedUntil.IsZero() {
		return throttled(addr, a.LockedUntil, now)
	}
	return nil
}

// addressLocked refuses a throttled address before any other work.
func (c *credentials) addressLocked(ctx context.Context, addr string) error {
	key := addressKey(addr)
	if c.locks == nil || key == "" {
		return nil
	}
	now := c.now()
	until, err := c.locks.LoginLockedUntil(ctx, key, now)
	if err != nil {
		return storeError(err)
	}
	if !until.IsZero() {
		return throttled(addr, until, now)
	}
	return nil
}

func accountLocked(user string, until, now time.Time) error {
	return psgate.E(psgate.CodeAccountLocked, psgate.Args{
		"upn":       user,
		"until":     until.UTC().Format(time.RFC3339),
		"remaining": remaining(until, now),
	}).With("locked_until", until.UTC().Format(time.RFC3339))
}

func throttled(addr string, until, now time.Time) error {
	return psgate.E(psgate.CodeSignInThrottled, psgate.Args{
		"address":   addr,
		"until":     until.UTC().Format(time.RFC3339),
		"remaining": remaining(until, now),
	}).With("locked_until", until.UTC().Format(time.RFC3339))
}

func remaining(until, now time.Time) string {
	d := until.Sub(now).Round(time.Second)
	return max(d, time.Second).String()
}

// addressKey is the lockout key of a client address: the IP itself, or
// its /64 for IPv6, where one client controls a whole /64. It is "" when
// the address is unknown.
func addressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return ""
	}
	if ip.To4() == nil {
		ip = ip.Mask(net.CIDRMask(64, 128))
	}
	return "a:" + ip.String()
}

// remoteAddr is the client address of r, without the port.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
