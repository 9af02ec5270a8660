package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

var identityTests = []test{
	{"SigningKeys", testSigningKeys},
	{"RefreshTokenReuse", testRefreshTokenReuse},
	{"RefreshTokenRevokeAndPurge", testRefreshTokenRevokeAndPurge},
	{"OAuthClients", testOAuthClients},
	{"Lockout", testLockout},
	{"LockoutPurge", testLockoutPurge},
	{"Federation", testFederation},
}

func testSigningKeys(t *testing.T, e *env) {
	t0 := e.clock.Now()
	k1 := store.SigningKey{KID: "k1", Alg: "ES256", PrivatePEM: []byte("-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n"),
		CreatedAt: t0, NotBefore: t0}
	k2 := store.SigningKey{KID: "k2", Alg: "RS256", PrivatePEM: []byte("pem2"), CreatedAt: t0.Add(time.Hour),
		NotBefore: t0.Add(2 * time.Hour)}
	wantErr(t, "AddSigningKey(k2)", e.s.AddSigningKey(e.ctx, k2), nil)
	wantErr(t, "AddSigningKey(k1)", e.s.AddSigningKey(e.ctx, k1), nil)
	wantErr(t, "AddSigningKey(duplicate)", e.s.AddSigningKey(e.ctx, k1), store.ErrConflict)
	wantErr(t, "AddSigningKey(no key)", e.s.AddSigningKey(e.ctx, store.SigningKey{KID: "k3", Alg: "ES256"}), store.ErrInvalid)
	retire := t0.Add(3 * time.Hour)
	wantErr(t, "RetireSigningKey", e.s.RetireSigningKey(e.ctx, "k1", retire), nil)
	wantErr(t, "RetireSigningKey(unknown)", e.s.RetireSigningKey(e.ctx, "k9", retire), store.ErrNotFound)
	k1.RetireAt = retire
	got, err := e.s.SigningKeys(e.ctx)
	wantErr(t, "SigningKeys", err, nil)
	if diff := diff(got, []store.SigningKey{k1, k2}); diff != "" {
		t.Errorf("SigningKeys() (-got +want):\n%s", diff)
	}
}

func (e *env) refresh(t *testing.T, u store.User, id, family string, life time.Duration) store.RefreshToken {
	t.Helper()
	rt := store.RefreshToken{ID: id, FamilyID: family, TenantID: u.TenantID, UserID: u.ID, ClientID: "psgate-cli",
		Scope: "psgate.shell offline_access", CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(life)}
	wantErr(t, "SaveRefreshToken", e.s.SaveRefreshToken(e.ctx, rt), nil)
	return rt
}

func testRefreshTokenReuse(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	first := e.refresh(t, u, "hash-1", "fam-1", time.Hour)
	wantErr(t, "SaveRefreshToken(duplicate)", e.s.SaveRefreshToken(e.ctx, first), store.ErrConflict)

	e.clock.Advance(time.Minute)
	used, err := e.s.UseRefreshToken(e.ctx, "hash-1", e.clock.Now())
	wantErr(t, "UseRefreshToken", err, nil)
	want := first
	want.UsedAt = e.clock.Now()
	if diff := diff(used, want); diff != "" {
		t.Errorf("UseRefreshToken() (-got +want):\n%s", diff)
	}
	rotated := e.refresh(t, u, "hash-2", "fam-1", time.Hour)

	// The first token is presented again: reuse. The caller gets the row
	// to revoke the family.
	reused, err := e.s.UseRefreshToken(e.ctx, "hash-1", e.clock.Now())
	wantErr(t, "UseRefreshToken(reuse)", err, store.ErrConflict)
	if reused.FamilyID != "fam-1" {
		t.Errorf("UseRefreshToken(reuse) returned family %q, want fam-1", reused.FamilyID)
	}
	wantErr(t, "RevokeRefreshFamily", e.s.RevokeRefreshFamily(e.ctx, reused.FamilyID), nil)
	_, err = e.s.UseRefreshToken(e.ctx, rotated.ID, e.clock.Now())
	wantErr(t, "UseRefreshToken(revoked family)", err, store.ErrConflict)

	_, err = e.s.UseRefreshToken(e.ctx, "unknown", e.clock.Now())
	wantErr(t, "UseRefreshToken(unknown)", err, store.ErrNotFound)
	e.refresh(t, u, "hash-3", "fam-2", time.Minute)
	e.clock.Advance(2 * time.Minute)
	_, err = e.s.UseRefreshToken(e.ctx, "hash-3", e.clock.Now())
	wantErr(t, "UseRefreshToken(expired)", err, store.ErrNotFound)
}

func testRefreshTokenRevokeAndPurge(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	alice, bob := e.user(t, tn.ID, "alice@contoso.test"), e.user(t, tn.ID, "bob@contoso.test")
	e.refresh(t, alice, "a1", "fa1", time.Hour)
	e.refresh(t, alice, "a2", "fa2", time.Minute)
	e.refresh(t, bob, "b1", "fb1", time.Hour)
	wantErr(t, "RevokeUserTokens", e.s.RevokeUserTokens(e.ctx, alice.ID), nil)
	_, err := e.s.UseRefreshToken(e.ctx, "a1", e.clock.Now())
	wantErr(t, "UseRefreshToken(revoked user)", err, store.ErrConflict)
	_, err = e.s.UseRefreshToken(e.ctx, "b1", e.clock.Now())
	wantErr(t, "UseRefreshToken(other user)", err, nil)

	e.clock.Advance(10 * time.Minute)
	n, err := e.s.PurgeRefreshTokens(e.ctx, e.clock.Now())
	wantErr(t, "PurgeRefreshTokens", err, nil)
	if n != 1 {
		t.Errorf("PurgeRefreshTokens() = %d, want 1 (a2 expired)", n)
	}
}

func testOAuthClients(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	sp := e.user(t, a.ID, "app-automation@contoso.test")
	c1 := store.OAuthClient{ClientID: "11111111-1111-4111-8111-111111111111", TenantID: a.ID, Name: "Automation",
		CertificatePEM: []byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"), UserID: sp.ID}
	c2 := store.OAuthClient{ClientID: "22222222-2222-4222-8222-222222222222", TenantID: b.ID, Name: "Reports",
		SecretHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA"}
	for _, c := range []store.OAuthClient{c2, c1} {
		got, err := e.s.CreateOAuthClient(e.ctx, c)
		wantErr(t, "CreateOAuthClient", err, nil)
		c.CreatedAt = e.clock.Now()
		if diff := diff(got, c); diff != "" {
			t.Errorf("CreateOAuthClient() (-got +want):\n%s", diff)
		}
	}
	c1.CreatedAt, c2.CreatedAt = e.clock.Now(), e.clock.Now()
	_, err := e.s.CreateOAuthClient(e.ctx, c1)
	wantErr(t, "CreateOAuthClient(duplicate)", err, store.ErrConflict)
	_, err = e.s.CreateOAuthClient(e.ctx, store.OAuthClient{ClientID: "x", TenantID: b.ID + 100})
	wantErr(t, "CreateOAuthClient(unknown tenant)", err, store.ErrNotFound)

	got, err := e.s.OAuthClient(e.ctx, c1.ClientID)
	wantErr(t, "OAuthClient", err, nil)
	if diff := diff(got, c1); diff != "" {
		t.Errorf("OAuthClient() (-got +want):\n%s", diff)
	}
	list, err := e.s.ListOAuthClients(e.ctx, a.ID)
	wantErr(t, "ListOAuthClients", err, nil)
	if diff := diff(list, []store.OAuthClient{c1}); diff != "" {
		t.Errorf("ListOAuthClients(tenant) (-got +want):\n%s", diff)
	}
	all, err := e.s.ListOAuthClients(e.ctx, 0)
	wantErr(t, "ListOAuthClients(all)", err, nil)
	if diff := diff(all, []store.OAuthClient{c1, c2}); diff != "" {
		t.Errorf("ListOAuthClients(all) (-got +want):\n%s", diff)
	}

	wantErr(t, "DeleteUser(service principal)", e.s.DeleteUser(e.ctx, sp.ID), nil)
	got, err = e.s.OAuthClient(e.ctx, c1.ClientID)
	wantErr(t, "OAuthClient", err, nil)
	if got.UserID != 0 {
		t.Errorf("client UserID after its user was deleted = %d, want 0", got.UserID)
	}
	wantErr(t, "DeleteOAuthClient", e.s.DeleteOAuthClient(e.ctx, c1.ClientID), nil)
	_, err = e.s.OAuthClient(e.ctx, c1.ClientID)
	wantErr(t, "OAuthClient(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteOAuthClient(again)", e.s.DeleteOAuthClient(e.ctx, c1.ClientID), store.ErrNotFound)
}

func testLockout(t *testing.T, e *env) {
	const key, window, threshold, lockFor = "u:alice@contoso.test", time.Minute, 3, 5 * time.Minute
	fail := func() store.LoginFailure {
		t.Helper()
		lf, err := e.s.RecordLoginFailure(e.ctx, key, e.clock.Now(), window, threshold, lockFor)
		wantErr(t, "RecordLoginFailure", err, nil)
		return lf
	}
	lockedUntilOf := func(k string) time.Time {
		t.Helper()
		locks, err := e.s.LoginLocksUntil(e.ctx, e.clock.Now(), k)
		wantErr(t, "LoginLocksUntil", err, nil)
		if len(locks) != 1 {
			t.Fatalf("LoginLocksUntil(%q) = %v, want one time", k, locks)
		}
		return locks[0]
	}
	lockedUntil := func() time.Time { t.Helper(); return lockedUntilOf(key) }

	if lf := fail(); lf.Failures != 1 || !lf.LockedUntil.IsZero() {
		t.Errorf("first failure = %+v, want 1 failure, not locked", lf)
	}
	e.clock.Advance(2 * window) // outside the window: counting restarts
	fail()
	e.clock.Advance(time.Second)
	if lf := fail(); lf.Failures != 2 || !lf.LockedUntil.IsZero() {
		t.Errorf("second failure in window = %+v, want 2 failures, not locked", lf)
	}
	if !lockedUntil().IsZero() {
		t.Errorf("LoginLocksUntil() before the threshold is set")
	}
	lf := fail()
	want := e.clock.Now().Add(lockFor)
	if !lf.LockedUntil.Equal(want) {
		t.Errorf("failure at threshold locked until %v, want %v", lf.LockedUntil, want)
	}
	if got := lockedUntil(); !got.Equal(want) {
		t.Errorf("LoginLocksUntil() = %v, want %v", got, want)
	}
	if until := lockedUntilOf("a:192.0.2.1"); !until.IsZero() {
		t.Errorf("LoginLocksUntil(other key) = %v, want zero", until)
	}
	// Several keys in one read: each gets its own time, in the order
	// asked, whether or not it has a row, a key asked twice twice.
	const counting = "u:bob@contoso.test" // failures, no lock
	_, err := e.s.RecordLoginFailure(e.ctx, counting, e.clock.Now(), window, threshold, lockFor)
	wantErr(t, "RecordLoginFailure", err, nil)
	locks, err := e.s.LoginLocksUntil(e.ctx, e.clock.Now(), "a:192.0.2.1", key, counting, key)
	wantErr(t, "LoginLocksUntil", err, nil)
	if wantLocks := []time.Time{{}, want, {}, want}; len(locks) != len(wantLocks) ||
		!locks[0].IsZero() || !locks[1].Equal(want) || !locks[2].IsZero() || !locks[3].Equal(want) {
		t.Errorf("LoginLocksUntil(none, locked, counting, locked) = %v, want %v", locks, wantLocks)
	}
	if locks, err := e.s.LoginLocksUntil(e.ctx, e.clock.Now()); err != nil || len(locks) != 0 {
		t.Errorf("LoginLocksUntil() with no key = %v, %v; want none", locks, err)
	}
	e.clock.Advance(lockFor)
	if got := lockedUntil(); !got.IsZero() {
		t.Errorf("LoginLocksUntil() after the lock = %v, want zero", got)
	}

	fail()
	wantErr(t, "ClearLoginFailures", e.s.ClearLoginFailures(e.ctx, key), nil)
	if lf := fail(); lf.Failures != 1 {
		t.Errorf("failure after ClearLoginFailures = %+v, want count 1", lf)
	}
}

func testFederation(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	_, err := e.s.Federation(e.ctx, tn.ID)
	wantErr(t, "Federation(none)", err, store.ErrNotFound)
	f := store.Federation{TenantID: tn.ID, Issuer: "https://idp.contoso.test", Audience: "psgate", UserClaim: "upn", Enabled: true}
	wantErr(t, "SetFederation", e.s.SetFederation(e.ctx, f), nil)
	f.Issuer, f.Enabled = "https://idp2.contoso.test", false
	wantErr(t, "SetFederation(replace)", e.s.SetFederation(e.ctx, f), nil)
	got, err := e.s.Federation(e.ctx, tn.ID)
	wantErr(t, "Federation", err, nil)
	if diff := diff(got, f); diff != "" {
		t.Errorf("Federation() (-got +want):\n%s", diff)
	}
	wantErr(t, "SetFederation(unknown tenant)", e.s.SetFederation(e.ctx, store.Federation{TenantID: tn.ID + 100, Issuer: "x"}),
		store.ErrNotFound)
}

// testLockoutPurge: stale failure counts go, a running lock and a count
// still in its window stay.
func testLockoutPurge(t *testing.T, e *env) {
	t0 := e.clock.Now()
	record := func(key string, at time.Time, threshold int, lockFor time.Duration) {
		t.Helper()
		_, err := e.s.RecordLoginFailure(e.ctx, key, at, time.Hour, threshold, lockFor)
		wantErr(t, "RecordLoginFailure("+key+")", err, nil)
	}
	record("guess-1", t0, 5, time.Minute)                  // a count begun at t0
	record("guess-2", t0.Add(2*time.Hour), 5, time.Minute) // begun later
	record("locked", t0, 1, 48*time.Hour)                  // locked for two days
	record("lock-ended", t0, 1, time.Minute)               // locked, lock over
	n, err := e.s.PurgeLoginFailures(e.ctx, t0.Add(time.Hour))
	wantErr(t, "PurgeLoginFailures", err, nil)
	if n != 2 {
		t.Errorf("PurgeLoginFailures removed %d rows, want 2 (guess-1 and lock-ended)", n)
	}
	at := t0.Add(time.Hour)
	if locks, err := e.s.LoginLocksUntil(e.ctx, at, "locked"); err != nil || len(locks) != 1 || locks[0].IsZero() {
		t.Errorf("a running lock after the purge: %v, %v; want it kept", locks, err)
	}
	// guess-2's count survived: one more failure makes two.
	lf, err := e.s.RecordLoginFailure(e.ctx, "guess-2", t0.Add(150*time.Minute), time.Hour, 5, time.Minute)
	wantErr(t, "RecordLoginFailure(guess-2)", err, nil)
	if lf.Failures != 2 {
		t.Errorf("guess-2 after the purge counts %d failures, want 2 (kept)", lf.Failures)
	}
}
