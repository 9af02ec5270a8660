package psrp

import (
	"encoding/hex"
	"errors"
	"strings"

	"github.com/psgate/psgate/psobject"
)

// GUID is a .NET Guid in its text byte order (as printed: the RunspacePool
// id "76056A84-51DC-4F24-9262-CA2A55464B2B" is {0x76, 0x05, …}). On the
// wire PSRP uses .NET's Guid.ToByteArray order, where the first three
// groups are little-endian; Message.Encode and DecodeMessage convert.
type GUID [16]byte

var errBadGUID = errors.New("psrp: malformed GUID")

// ParseGUID parses "A6A8…-…" in either case, with or without braces.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, errBadGUID
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return GUID{}, errBadGUID
	}
	return g, nil
}

// String returns the upper-case form WinRM uses for shell and command ids.
func (g GUID) String() string {
	var b [36]byte
	const digits = "0123456789ABCDEF"
	j := 0
	for i, c := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = digits[c>>4], digits[c&0xF]
		j += 2
	}
	return string(b[:])
}

// IsZero reports whether g is the all-zero GUID (no pipeline).
func (g GUID) IsZero() bool { return g == GUID{} }

// PSObject returns g as a CLIXML <G> value (lower case).
func (g GUID) PSObject() psobject.GUID { return psobject.GUID(strings.ToLower(g.String())) }

// putLE writes g in .NET Guid.ToByteArray order.
func (g GUID) putLE(b []byte) {
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	copy(b[8:16], g[8:16])
}

// guidFromLE reads a GUID in .NET Guid.ToByteArray order.
func guidFromLE(b []byte) GUID {
	var g GUID
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:16], b[8:16])
	return g
}
