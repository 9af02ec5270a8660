package psrp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// ErrProtocolVersion is returned when the client speaks a protocol major
// version other than 2; the gateway maps it to psgate.CodeProtocolVersion.
var ErrProtocolVersion = errors.New("psrp: unsupported protocol version")

// Versions the server advertises.
const (
	// MaxProtocolVersion is the highest PSRP version psgate speaks: 2.3,
	// Windows PowerShell 5.1's. It keeps the session-key exchange that
	// protocol 2.4 drops.
	MaxProtocolVersion psobject.Version = "2.3"
	// CapabilityPSVersion and SerializationVersion are what PowerShell's
	// client requires exactly in the server's SESSION_CAPABILITY.
	CapabilityPSVersion  psobject.Version = "2.0"
	SerializationVersion psobject.Version = "1.1.0.1"
	// MinProtocolVersion is the oldest version a server accepts: 2.2,
	// Windows PowerShell 3.0's.
	MinProtocolVersion psobject.Version = "2.2"
)

// AcceptProtocolVersion returns the version a server answers a client
// speaking v with (see NegotiateProtocolVersion), or a *VersionError when
// v is not 2.x or is older than MinProtocolVersion.
func AcceptProtocolVersion(v psobject.Version) (psobject.Version, error) {
	n, err := NegotiateProtocolVersion(v)
	if err != nil || !VersionAtLeast(v, 2, 2) {
		return "", &VersionError{Client: string(v)}
	}
	return n, nil
}

// SessionCapability is a SESSION_CAPABILITY payload ([MS-PSRP] §2.2.2.1).
type SessionCapability struct {
	ProtocolVersion      psobject.Version
	PSVersion            psobject.Version
	SerializationVersion psobject.Version
	// TimeZone is the client's serialized time zone, when sent.
	TimeZone []byte
}

// ParseSessionCapability parses the client's SESSION_CAPABILITY.
func ParseSessionCapability(data []byte, lim clixml.Limits) (SessionCapability, error) {
	const t = MsgSessionCapability
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return SessionCapability{}, err
	}
	var c SessionCapability
	if c.ProtocolVersion, err = f.version("protocolversion"); err != nil {
		return c, err
	}
	if c.PSVersion, err = f.version("PSVersion"); err != nil {
		return c, err
	}
	if c.SerializationVersion, err = f.version("SerializationVersion"); err != nil {
		return c, err
	}
	if v, ok := f.get("TimeZone"); ok && v != nil {
		tz, ok := v.([]byte)
		if !ok {
			return c, badf(t, "property TimeZone is %s, not bytes", kind(v))
		}
		c.TimeZone = tz
	}
	return c, nil
}

// NegotiateProtocolVersion returns the protocol version the server answers
// a client with: the client's own when it is 2.0 to 2.3, else 2.3 (what
// PowerShell's own server does; a 5.1 client rejects anything it does not
// know). A major version other than 2 is refused with ErrProtocolVersion.
func NegotiateProtocolVersion(client psobject.Version) (psobject.Version, error) {
	major, minor, ok := parseMajorMinor(string(client))
	if !ok || major != 2 {
		return "", fmt.Errorf("%w: client speaks %q, server speaks %s", ErrProtocolVersion, client, MaxProtocolVersion)
	}
	if minor <= 3 {
		return psobject.Version("2." + strconv.Itoa(minor)), nil
	}
	return MaxProtocolVersion, nil
}

// VersionAtLeast reports whether v is at least major.minor; malformed
// versions are never.
func VersionAtLeast(v psobject.Version, major, minor int) bool {
	ma, mi, ok := parseMajorMinor(string(v))
	return ok && (ma > major || ma == major && mi >= minor)
}

func parseMajorMinor(s string) (major, minor int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, false
	}
	return major, minor, true
}

// NewSessionCapability builds the server's SESSION_CAPABILITY for the
// negotiated protocol version. Its RPID is zero, as the spec requires.
func NewSessionCapability(protocolVersion psobject.Version) Message {
	return mustMarshal(MsgSessionCapability, GUID{}, GUID{}, root(
		p("protocolversion", protocolVersion),
		p("PSVersion", CapabilityPSVersion),
		p("SerializationVersion", SerializationVersion),
	))
}
