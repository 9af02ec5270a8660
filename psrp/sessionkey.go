package psrp

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"unicode/utf16"

	"github.com/psgate/psgate/clixml"
)

// ParsePublicKey parses PUBLIC_KEY and returns the client's RSA public key
// blob (a CAPI PUBLICKEYBLOB, [MS-PSRP] §2.2.2.3).
func ParsePublicKey(data []byte, lim clixml.Limits) ([]byte, error) {
	const t = MsgPublicKey
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return nil, err
	}
	s, err := f.str("PublicKey")
	if err != nil {
		return nil, err
	}
	blob, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, badf(t, "PublicKey is not base64: %v", err)
	}
	return blob, nil
}

// NewEncryptedSessionKey builds ENCRYPTED_SESSION_KEY carrying the session
// key blob (a CAPI SIMPLEBLOB, [MS-PSRP] §2.2.2.4). Its RPID is zero.
func NewEncryptedSessionKey(blob []byte) Message {
	return mustMarshal(MsgEncryptedSessionKey, GUID{}, GUID{}, root(
		p("EncryptedSessionKey", base64.StdEncoding.EncodeToString(blob)),
	))
}

// NewPublicKeyRequest builds PUBLIC_KEY_REQUEST, asking the client to
// start the session key exchange. Its data is an empty string and its RPID
// zero.
func NewPublicKeyRequest() Message {
	return mustMarshal(MsgPublicKeyRequest, GUID{}, GUID{}, "")
}

// ErrSessionKey is wrapped by errors of the session key exchange and of
// SecureString decryption.
var ErrSessionKey = errors.New("psrp: session key")

// SessionKey is the AES-256 key a client and the server share after the
// PUBLIC_KEY / ENCRYPTED_SESSION_KEY exchange; SecureString values are
// encrypted with it ([MS-PSRP] §3.2.5.4.3). Its String never shows the
// key.
type SessionKey struct {
	key [32]byte
}

func (SessionKey) String() string { return "psrp.SessionKey(redacted)" }

// CAPI blob constants ([MS-PSRP] §2.2.2.3-4).
const (
	publicKeyBlobType = 0x06 // PUBLICKEYBLOB
	simpleBlobType    = 0x01 // SIMPLEBLOB
	algRSAKeyX        = 0x0000A400
	algAES256         = 0x00006610
	rsaMagic          = "RSA1"
)

// NewSessionKey answers a client's PUBLIC_KEY: it draws a session key from
// random (crypto/rand in production) and returns it with the blob for
// NewEncryptedSessionKey: the key encrypted for the client's RSA key with
// PKCS#1 v1.5 padding, byte-reversed as CryptoAPI stores it.
func NewSessionKey(publicKeyBlob []byte, random io.Reader) (SessionKey, []byte, error) {
	var k SessionKey
	n, e, err := parsePublicKeyBlob(publicKeyBlob)
	if err != nil {
		return k, nil, err
	}
	if _, err := io.ReadFull(random, k.key[:]); err != nil {
		return k, nil, fmt.Errorf("%w: reading random bytes: %w", ErrSessionKey, err)
	}
	enc, err := encryptPKCS1v15(random, n, e, k.key[:])
	if err != nil {
		return SessionKey{}, nil, err
	}
	blob := make([]byte, 12, 12+len(enc))
	blob[0], blob[1] = simpleBlobType, 2
	binary.LittleEndian.PutUint32(blob[4:8], algAES256)
	binary.LittleEndian.PutUint32(blob[8:12], algRSAKeyX)
	for i := len(enc) - 1; i >= 0; i-- {
		blob = append(blob, enc[i])
	}
	return k, blob, nil
}

// parsePublicKeyBlob reads a CAPI PUBLICKEYBLOB: a 16-byte header ending
// with the bit length, the exponent, then the little-endian modulus.
func parsePublicKeyBlob(b []byte) (n *big.Int, e int, err error) {
	if len(b) < 20 || b[0] != publicKeyBlobType || binary.LittleEndian.Uint32(b[4:8]) != algRSAKeyX || string(b[8:12]) != rsaMagic {
		return nil, 0, fmt.Errorf("%w: not an RSA public key blob", ErrSessionKey)
	}
	bits := binary.LittleEndian.Uint32(b[12:16])
	if bits < 1024 || bits > 16384 || bits%8 != 0 || len(b) != 20+int(bits/8) {
		return nil, 0, fmt.Errorf("%w: RSA key of %d bits in a %d-byte blob", ErrSessionKey, bits, len(b))
	}
	exp := binary.LittleEndian.Uint32(b[16:20])
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, 0, fmt.Errorf("%w: bad RSA exponent %d", ErrSessionKey, exp)
	}
	mod := make([]byte, bits/8)
	for i, c := range b[20:] {
		mod[len(mod)-1-i] = c
	}
	n = new(big.Int).SetBytes(mod)
	if n.BitLen() < 1024 || n.Bit(0) == 0 {
		return nil, 0, fmt.Errorf("%w: bad RSA modulus", ErrSessionKey)
	}
	return n, int(exp), nil
}

// encryptPKCS1v15 is RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1), which
// the protocol requires; the standard library has deprecated its own.
// Only public values go through the modular exponentiation.
func encryptPKCS1v15(random io.Reader, n *big.Int, e int, msg []byte) ([]byte, error) {
	k := (n.BitLen() + 7) / 8
	if len(msg) > k-11 {
		return nil, fmt.Errorf("%w: message too long for the RSA key", ErrSessionKey)
	}
	em := make([]byte, k)
	em[1] = 2
	ps := em[2 : k-len(msg)-1]
	if _, err := io.ReadFull(random, ps); err != nil {
		return nil, fmt.Errorf("%w: reading random bytes: %w", ErrSessionKey, err)
	}
	for i := range ps {
		for ps[i] == 0 {
			if _, err := io.ReadFull(random, ps[i:i+1]); err != nil {
				return nil, fmt.Errorf("%w: reading random bytes: %w", ErrSessionKey, err)
			}
		}
	}
	copy(em[k-len(msg):], msg)
	c := new(big.Int).Exp(new(big.Int).SetBytes(em), big.NewInt(int64(e)), n)
	return c.FillBytes(make([]byte, k)), nil
}

// DecryptSecureString returns the text of a SecureString the client
// encrypted with this key: AES-256-CBC, zero IV, PKCS#7, UTF-16LE.
func (k SessionKey) DecryptSecureString(ss clixml.SecureString) (string, error) {
	ct := ss.Ciphertext
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: secure string of %d bytes is not whole AES blocks", ErrSessionKey, len(ct))
	}
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSessionKey, err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(pt) {
		return "", fmt.Errorf("%w: secure string does not decrypt with the session key", ErrSessionKey)
	}
	for _, c := range pt[len(pt)-pad:] {
		if int(c) != pad {
			return "", fmt.Errorf("%w: secure string does not decrypt with the session key", ErrSessionKey)
		}
	}
	pt = pt[:len(pt)-pad]
	if len(pt)%2 != 0 {
		return "", fmt.Errorf("%w: secure string is not UTF-16", ErrSessionKey)
	}
	units := make([]uint16, len(pt)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(pt[2*i:])
	}
	return string(utf16.Decode(units)), nil
}

// EncryptSecureString encrypts s for the client (a SecureString output or
// host-call parameter).
func (k SessionKey) EncryptSecureString(s string) (clixml.SecureString, error) {
	units := utf16.Encode([]rune(s))
	pad := aes.BlockSize - (2*len(units))%aes.BlockSize
	pt := make([]byte, 2*len(units), 2*len(units)+pad)
	for i, u := range units {
		binary.LittleEndian.PutUint16(pt[2*i:], u)
	}
	for range pad {
		pt = append(pt, byte(pad))
	}
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		return clixml.SecureString{}, fmt.Errorf("%w: %w", ErrSessionKey, err)
	}
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(pt, pt)
	return clixml.SecureString{Ciphertext: pt}, nil
}
