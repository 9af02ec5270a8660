package identity

import (
	"context"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	p, err := jose.ParseSignedCompact(tok, acceptedAlgs)
	if err != nil {
		t.Fatal(err)
	}
	return p.Signatures[0].Header.KeyID
}

func (f *fixture) jwksKIDs() []string {
	f.t.Helper()
	var set jose.JSONWebKeySet
	getJSON(f.t, f, PathJWKS, &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func TestKeyRotationWithOverlap(t *testing.T) {
	f := newFixture(t, func(c *ServiceConfig) { c.KeyRotation = 4 * time.Hour })
	t0 := f.clock.Now()
	tokA := f.signIn("alice@contoso.test", alicePW).AccessToken
	kid1 := kidOf(t, tokA)
	if kids := f.jwksKIDs(); len(kids) != 1 || kids[0] != kid1 {
		t.Fatalf("JWKS = %v, want only %s", kids, kid1)
	}

	// An hour before the rotation the next key is published, not used.
	f.clock.Advance(3*time.Hour + time.Minute)
	if err := f.svc.keys.maintain(f.ctx); err != nil {
		t.Fatal(err)
	}
	kids := f.jwksKIDs()
	if len(kids) != 2 {
		t.Fatalf("JWKS after pre-publication = %v, want two keys", kids)
	}
	f.clock.Advance(29 * time.Minute)
	tokC := f.signIn("alice@contoso.test", alicePW).AccessToken
	if kidOf(t, tokC) != kid1 {
		t.Fatal("the next key signed before its time")
	}

	// After the rotation the new key signs; the old one still verifies.
	f.clock.Advance(31 * time.Minute) // t0 + 4h01m
	if err := f.svc.keys.maintain(f.ctx); err != nil {
		t.Fatal(err)
	}
	tokB := f.signIn("alice@contoso.test", alicePW).AccessToken
	kid2 := kidOf(t, tokB)
	if kid2 == kid1 {
		t.Fatal("still signing with the old key after the rotation")
	}
	for name, tok := range map[string]string{"old key": tokC, "new key": tokB} {
		if _, err := f.svc.VerifyAccessToken(f.ctx, tok, Hint{}); err != nil {
			t.Errorf("token signed with the %s refused: %v", name, err)
		}
	}

	// Another node on the same store verifies with keys it has not seen.
	node2, err := NewService(ServiceConfig{Store: f.db, Issuer: f.svc.Issuer(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node2.VerifyAccessToken(f.ctx, tokB, Hint{User: "alice@contoso.test"}); err != nil {
		t.Errorf("second node refused the new key's token: %v", err)
	}

	// Once every token of the old key has expired, it is withdrawn.
	f.clock.Advance(time.Hour + 2*time.Minute)
	if kids := f.jwksKIDs(); len(kids) != 1 || kids[0] != kid2 {
		t.Errorf("JWKS at t0+%v = %v, want only %s", f.clock.Now().Sub(t0), kids, kid2)
	}
	f.svc.tokens.sweep(f.clock.Now())
	if _, err := f.svc.VerifyAccessToken(f.ctx, sign(t, jose.ES256, mustPrivateKID(t, f, kid1), kid1, accessTokenType, f.aliceClaims()), Hint{}); codeOf(err) == "" {
		t.Error("a fresh token signed with the withdrawn key was accepted")
	}
}

func mustPrivateKID(t *testing.T, f *fixture, kid string) any {
	t.Helper()
	keys, err := f.db.SigningKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.KID == kid {
			sk, err := parseSigningKey(k)
			if err != nil {
				t.Fatal(err)
			}
			return mustPrivate(t, sk)
		}
	}
	t.Fatalf("no key %s", kid)
	return nil
}

func TestRunCreatesKeyAndStops(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, err := f.db.SigningKeys(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run created no signing key")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestConcurrentFirstUseCreatesOneKey(t *testing.T) {
	f := newFixture(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := f.svc.keys.signer(f.ctx)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	keys, err := f.db.SigningKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("concurrent first use created %d signing keys, want 1", len(keys))
	}
}
