package psrp

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"

	"github.com/psgate/psgate/clixml"
)

// publicKeyBlob builds the CAPI PUBLICKEYBLOB PowerShell clients send.
func publicKeyBlob(pub *rsa.PublicKey) []byte {
	bits := pub.N.BitLen()
	b := []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1'}
	b = binary.LittleEndian.AppendUint32(b, uint32(bits))
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.E))
	mod := pub.N.FillBytes(make([]byte, bits/8))
	for i := len(mod) - 1; i >= 0; i-- {
		b = append(b, mod[i])
	}
	return b
}

func TestSessionKeyExchange(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key, blob, err := NewSessionKey(publicKeyBlob(&priv.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []byte{0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00}
	if !bytes.Equal(blob[:12], wantHeader) || len(blob) != 12+256 {
		t.Fatalf("blob header % x, %d bytes", blob[:12], len(blob))
	}
	// The client reverses the bytes and decrypts with its private key.
	ct := make([]byte, 256)
	for i := range ct {
		ct[i] = blob[len(blob)-1-i]
	}
	em := new(big.Int).Exp(new(big.Int).SetBytes(ct), priv.D, priv.N).FillBytes(make([]byte, 256))
	if em[0] != 0 || em[1] != 2 || em[256-33] != 0 || bytes.IndexByte(em[2:256-33], 0) >= 0 {
		t.Fatalf("bad PKCS#1 v1.5 padding % x", em[:16])
	}
	if !bytes.Equal(em[256-32:], key.key[:]) {
		t.Fatal("decrypted session key differs from the server's")
	}
	if key.String() != "psrp.SessionKey(redacted)" {
		t.Errorf("String() = %q", key.String())
	}
	ss, err := key.EncryptSecureString("hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := key.DecryptSecureString(ss); err != nil || got != "hunter2" {
		t.Errorf("round trip = %q, %v", got, err)
	}
}

// TestRecordedPublicKey answers the public key a real client sent; the
// blob must have the real server's header and size.
func TestRecordedPublicKey(t *testing.T) {
	rec := loadRecording(t, "multiple_commands")
	pub, err := ParsePublicKey(ofType(rec.client, MsgPublicKey)[0].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, blob, err := NewSessionKey(pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	realKey := prop(t, decode(t, ofType(rec.server, MsgEncryptedSessionKey)[0]), "EncryptedSessionKey").(string)
	real, err := base64.StdEncoding.DecodeString(realKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) != len(real) || !bytes.Equal(blob[:12], real[:12]) {
		t.Errorf("blob %d bytes header % x; real server %d bytes header % x", len(blob), blob[:12], len(real), real[:12])
	}
}

func TestSecureStringKnownAnswer(t *testing.T) {
	var k SessionKey
	for i := range k.key {
		k.key[i] = byte(i)
	}
	// Computed independently (Python cryptography, AES-256-CBC, zero IV, PKCS7, UTF-16LE).
	want := "Nq9T/SxAEsjh9nWq91isqphXNd2c4HoAwVK52UaZOFg="
	ss, err := k.EncryptSecureString("Pässwörd😀")
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(ss.Ciphertext); got != want {
		t.Errorf("EncryptSecureString = %s, want %s", got, want)
	}
	ct, _ := base64.StdEncoding.DecodeString(want)
	if got, err := k.DecryptSecureString(clixml.SecureString{Ciphertext: ct}); err != nil || got != "Pässwörd😀" {
		t.Errorf("DecryptSecureString = %q, %v", got, err)
	}
}

func TestSessionKeyErrors(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := publicKeyBlob(&priv.PublicKey)
	bad := func(mutate func(b []byte) []byte) []byte { return mutate(append([]byte(nil), good...)) }
	for name, blob := range map[string][]byte{
		"empty":          nil,
		"wrong type":     bad(func(b []byte) []byte { b[0] = 7; return b }),
		"wrong magic":    bad(func(b []byte) []byte { b[8] = 'X'; return b }),
		"truncated":      bad(func(b []byte) []byte { return b[:len(b)-1] }),
		"even exponent":  bad(func(b []byte) []byte { b[16] = 4; b[17], b[18], b[19] = 0, 0, 0; return b }),
		"tiny key":       bad(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 512); return b[:20+64] }),
		"even modulus":   bad(func(b []byte) []byte { b[20] &^= 1; return b }),
		"zeroed modulus": bad(func(b []byte) []byte { clear(b[20:]); return b }),
	} {
		if _, _, err := NewSessionKey(blob, rand.Reader); !errors.Is(err, ErrSessionKey) {
			t.Errorf("%s: error = %v, want ErrSessionKey", name, err)
		}
	}
	if _, _, err := NewSessionKey(good, bytes.NewReader(nil)); !errors.Is(err, ErrSessionKey) {
		t.Errorf("exhausted random source: error = %v", err)
	}
	var k SessionKey
	for _, ct := range [][]byte{nil, make([]byte, 15), make([]byte, 16)} {
		if _, err := k.DecryptSecureString(clixml.SecureString{Ciphertext: ct}); !errors.Is(err, ErrSessionKey) {
			t.Errorf("ciphertext of %d bytes: error = %v", len(ct), err)
		}
	}
}
