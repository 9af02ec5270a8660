package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// keyStore is the part of the store that holds signing keys.
type keyStore interface {
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	AddSigningKey(ctx context.Context, k store.SigningKey) error
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error
}

// signingKey is a parsed store.SigningKey.
type signingKey struct {
	rec    store.SigningKey
	alg    jose.SignatureAlgorithm
	public jose.JSONWebKey
	signer jose.Signer
}

// keyring holds the token service's signing keys. The store is the source
// of truth, so that every gateway node signs and verifies with the same
// keys. A key signs from NotBefore until RetireAt; a retired key is still
// published and still verifies for verifyFor (the access-token lifetime
// plus clock skew), so tokens it signed stay valid until they expire. The
// next key is published prePublish before it starts signing.
type keyring struct {
	st         keyStore
	now        func() time.Time
	log        *slog.Logger
	rotate     time.Duration
	prePublish time.Duration
	verifyFor  time.Duration
	reloadMin  time.Duration

	// maintainMu serialises maintain on this node.
	maintainMu sync.Mutex

	mu       sync.RWMutex
	loaded   bool
	loadedAt time.Time
	keys     []*signingKey
	byKID    map[string]*signingKey
}

// load reads every key from the store.
func (k *keyring) load(ctx context.Context) error {
	recs, err := k.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("identity: load signing keys: %w", err)
	}
	keys := make([]*signingKey, 0, len(recs))
	byKID := make(map[string]*signingKey, len(recs))
	for _, rec := range recs {
		sk, err := parseSigningKey(rec)
		if err != nil {
			k.log.Error("unusable signing key in the store", "kid", rec.KID, logkey.Err, err)
			continue
		}
		keys = append(keys, sk)
		byKID[rec.KID] = sk
	}
	k.mu.Lock()
	k.keys, k.byKID, k.loaded, k.loadedAt = keys, byKID, true, k.now()
	k.mu.Unlock()
	return nil
}

// maintain loads the keys and creates or rotates the signing key when
// due. Several nodes may do this at once: the worst case is an extra key,
// and every node picks the same signer (activeAt).
func (k *keyring) maintain(ctx context.Context) error {
	k.maintainMu.Lock()
	defer k.maintainMu.Unlock()
	if err := k.load(ctx); err != nil {
		return err
	}
	now := k.now()
	k.mu.RLock()
	active := k.activeAt(now)
	var next *signingKey
	for _, sk := range k.keys {
		if sk.rec.NotBefore.After(now) && (next == nil || sk.rec.NotBefore.Before(next.rec.NotBefore)) {
			next = sk
		}
	}
	k.mu.RUnlock()
	switch {
	case active == nil:
		if _, err := k.create(ctx, now); err != nil {
			return err
		}
	case active.rec.RetireAt.IsZero():
		due := active.rec.NotBefore.Add(k.rotate)
		if now.Before(due.Add(-k.prePublish)) {
			return nil
		}
		var start time.Time
		if next != nil {
			start = next.rec.NotBefore
		} else {
			start = maxTime(due, now)
			if _, err := k.create(ctx, start); err != nil {
				return err
			}
		}
		if err := k.st.RetireSigningKey(ctx, active.rec.KID, start); err != nil {
			return fmt.Errorf("identity: retire signing key %s: %w", active.rec.KID, err)
		}
		k.log.Info("signing key rotation scheduled", "kid", active.rec.KID, "retire_at", start)
	default:
		return nil
	}
	return k.load(ctx)
}

// create stores a new ES256 key that signs from notBefore.
func (k *keyring) create(ctx context.Context, notBefore time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("identity: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("identity: encode signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("identity: signing key thumbprint: %w", err)
	}
	rec := store.SigningKey{
		KID:        base64.RawURLEncoding.EncodeToString(thumb[:12]),
		Alg:        string(jose.ES256),
		PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		CreatedAt:  k.now(),
		NotBefore:  notBefore,
	}
	if err := k.st.AddSigningKey(ctx, rec); err != nil {
		return store.SigningKey{}, fmt.Errorf("identity: store signing key: %w", err)
	}
	k.log.Info("signing key created", "kid", rec.KID, "alg", rec.Alg, "not_before", notBefore)
	return rec, nil
}

// activeAt returns the key that signs at now: the latest NotBefore not
// after now, not retired, ties broken by KID. Callers hold mu.
func (k *keyring) activeAt(now time.Time) *signingKey {
	var best *signingKey
	for _, sk := range k.keys {
		r := sk.rec
		if r.NotBefore.After(now) || !r.RetireAt.IsZero() && !now.Before(r.RetireAt) {
			continue
		}
		if best == nil || r.NotBefore.After(best.rec.NotBefore) ||
			r.NotBefore.Equal(best.rec.NotBefore) && r.KID > best.rec.KID {
			best = sk
		}
	}
	return best
}

// verifies reports whether sk still verifies tokens at now.
func (k *keyring) verifies(sk *signingKey, now time.Time) bool {
	return sk.rec.RetireAt.IsZero() || now.Before(sk.rec.RetireAt.Add(k.verifyFor))
}

// signer returns the key to sign with now, creating one if there is none.
func (k *keyring) signer(ctx context.Context) (*signingKey, error) {
	now := k.now()
	k.mu.RLock()
	sk := k.activeAt(now)
	loaded := k.loaded
	k.mu.RUnlock()
	if sk != nil && loaded {
		return sk, nil
	}
	if err := k.maintain(ctx); err != nil {
		return nil, err
	}
	// maintain may just have created the key, with a NotBefore later
	// than the now read above: look again at the current time.
	k.mu.RLock()
	defer k.mu.RUnlock()
	if sk = k.activeAt(k.now()); sk == nil {
		return nil, errors.New("identity: no signing key is active")
	}
	return sk, nil
}

// verifier returns the key kid if it still verifies. An unknown kid
// reloads the keys (another node may have rotated), at most every
// reloadMin.
func (k *keyring) verifier(ctx context.Context, kid string) (*signingKey, error) {
	now := k.now()
	k.mu.RLock()
	sk, ok := k.byKID[kid]
	stale := !k.loaded || now.Sub(k.loadedAt) >= k.reloadMin
	k.mu.RUnlock()
	if !ok && stale {
		if err := k.load(ctx); err != nil {
			return nil, err
		}
		k.mu.RLock()
		sk, ok = k.byKID[kid]
		k.mu.RUnlock()
	}
	if !ok || !k.verifies(sk, now) {
		return nil, nil
	}
	return sk, nil
}

// jwks returns the JSON Web Key Set of the keys that verify now or will
// sign soon.
func (k *keyring) jwks(ctx context.Context) ([]byte, error) {
	k.mu.RLock()
	loaded := k.loaded
	k.mu.RUnlock()
	if !loaded {
		if err := k.maintain(ctx); err != nil {
			return nil, err
		}
	}
	now := k.now()
	k.mu.RLock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, sk := range k.keys {
		if k.verifies(sk, now) {
			set.Keys = append(set.Keys, sk.public)
		}
	}
	k.mu.RUnlock()
	sort.SliceStable(set.Keys, func(i, j int) bool { return set.Keys[i].KeyID < set.Keys[j].KeyID })
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("identity: encode JWKS: %w", err)
	}
	return b, nil
}

// parseSigningKey decodes a stored key: ES256 on P-256, or RS256 with at
// least 2048 bits.
func parseSigningKey(rec store.SigningKey) (*signingKey, error) {
	block, _ := pem.Decode(rec.PrivatePEM)
	if block == nil {
		return nil, errors.New("identity: signing key: no PEM block")
	}
	var priv crypto.Signer
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("identity: signing key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("identity: signing key: unsupported key type %T", k)
		}
		priv = s
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("identity: signing key: %w", err)
		}
		priv = k
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("identity: signing key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("identity: signing key: unsupported PEM block %q", block.Type)
	}
	alg := jose.SignatureAlgorithm(rec.Alg)
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		if alg != jose.ES256 || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("identity: signing key: an EC key must be P-256 with ES256, not %s", alg)
		}
	case *rsa.PrivateKey:
		if alg != jose.RS256 || p.N.BitLen() < 2048 {
			return nil, fmt.Errorf("identity: signing key: an RSA key must have 2048 bits or more and use RS256, not %s", alg)
		}
	default:
		return nil, fmt.Errorf("identity: signing key: unsupported key type %T", priv)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: rec.KID, Algorithm: string(alg)}},
		(&jose.SignerOptions{}).WithType(accessTokenType))
	if err != nil {
		return nil, fmt.Errorf("identity: signing key: %w", err)
	}
	return &signingKey{
		rec:    rec,
		alg:    alg,
		public: jose.JSONWebKey{Key: priv.Public(), KeyID: rec.KID, Algorithm: string(alg), Use: "sig"},
		signer: signer,
	}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
