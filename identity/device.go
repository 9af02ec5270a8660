package identity

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
)

// userCodeAlphabet has no vowels (no words) and no digits (no 0/O, 1/I
// confusion), as RFC 8628 section 6.1 suggests. Eight letters give
// 20^8 ≈ 2^34.6 codes; guesses are throttled per address.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

const userCodeLen = 8

// DeviceCodeLimits bounds the device authorizations waiting for approval
// on one node (they live in its memory), so that no client can fill the
// table and block device-code sign-in for everyone.
type DeviceCodeLimits struct {
	// Pending is the most device codes waiting on this node; zero means
	// 10000. Beyond it the device authorization endpoint answers
	// temporarily_unavailable (503).
	Pending int
	// PerAddress is the most codes one client address (an IPv6 /64) may
	// have waiting; zero means 10. Beyond, identity.too-many-pending (429).
	PerAddress int
	// PerClient is the most codes one registered application may have
	// waiting; zero means a tenth of Pending. The public client (the
	// connector) is everyone's, so it is bounded per address only.
	PerClient int
	// IdleAfter: once the table is half full, a code whose client has not
	// polled for this long (and at least three poll intervals) is dropped,
	// and new codes live at most PressureTTL. Zero means 30 seconds.
	IdleAfter time.Duration
	// PressureTTL is the lifetime of codes issued while the table is half
	// full; zero means 5 minutes.
	PressureTTL time.Duration
}

func (l DeviceCodeLimits) withDefaults() DeviceCodeLimits {
	if l.Pending <= 0 {
		l.Pending = 10000
	}
	if l.PerAddress <= 0 {
		l.PerAddress = 10
	}
	if l.PerClient <= 0 {
		l.PerClient = max(1, l.Pending/10)
	}
	setDefault(&l.IdleAfter, 30*time.Second)
	setDefault(&l.PressureTTL, 5*time.Minute)
	return l
}

// errDevicesFull is the refusal when the table is full of codes that are
// all in use.
var errDevicesFull = errors.New("identity: too many pending device codes")

// deviceAuth is one device authorization (RFC 8628). Device codes live in
// the memory of the node that issued them: in a cluster, the connector's
// polling and the verification page must reach the same node (sticky
// sessions), and a restart forgets pending sign-ins.
type deviceAuth struct {
	userCode string
	clientID string
	// registered is set for a registered application's codes, which count
	// against its PerClient bound.
	registered bool
	// addrKey is the client address that asked for the code.
	addrKey string
	// tenantID restricts approval to one tenant's users for a registered
	// application; 0 for public clients.
	tenantID psgate.TenantID
	scope    string
	expires  time.Time
	interval time.Duration
	nextPoll time.Time
	// lastSeen is when the client last asked for or polled the code.
	lastSeen time.Time
	// userID is set when a user approved the code.
	userID psgate.UserID
}

type devices struct {
	limits DeviceCodeLimits

	mu       sync.Mutex
	byDevice map[string]*deviceAuth // by refreshID(device code)
	byUser   map[string]string      // user code → device key
	byAddr   map[string]int         // codes per address key
	byClient map[string]int         // codes per registered client
}

func newDevices(l DeviceCodeLimits) *devices {
	return &devices{
		limits:   l.withDefaults(),
		byDevice: make(map[string]*deviceAuth),
		byUser:   make(map[string]string),
		byAddr:   make(map[string]int),
		byClient: make(map[string]int),
	}
}

// start registers a new device authorization and returns its device code.
// It refuses with CodeTooManyPending when the address or application has
// its share waiting, and with errDevicesFull when the table is full of
// codes in use. Under pressure (half full) it first drops idle codes, and
// the new code lives at most PressureTTL.
func (d *devices) start(a deviceAuth, addr string, now time.Time) (string, deviceAuth, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.limits
	pressure := len(d.byDevice) >= l.Pending/2
	if pressure {
		d.evictIdleLocked(now)
	}
	if len(d.byDevice) >= l.Pending || a.addrKey != "" && d.byAddr[a.addrKey] >= l.PerAddress ||
		a.registered && d.byClient[a.clientID] >= l.PerClient {
		d.sweepLocked(now, 0) // room first: forget every expired code
	}
	switch {
	case a.addrKey != "" && d.byAddr[a.addrKey] >= l.PerAddress:
		return "", deviceAuth{}, tooManyPending("device sign-ins", "the client address "+addr, l.IdleAfter)
	case a.registered && d.byClient[a.clientID] >= l.PerClient:
		return "", deviceAuth{}, tooManyPending("device sign-ins", "the application '"+a.clientID+"'", l.IdleAfter)
	case len(d.byDevice) >= l.Pending:
		return "", deviceAuth{}, errDevicesFull
	}
	if pressure && a.expires.After(now.Add(l.PressureTTL)) {
		a.expires = now.Add(l.PressureTTL)
	}
	for {
		a.userCode = newUserCode()
		if _, taken := d.byUser[a.userCode]; !taken {
			break
		}
	}
	code := randomID(32)
	key := refreshID(code)
	a.nextPoll, a.lastSeen = now, now
	d.byDevice[key] = &a
	d.byUser[a.userCode] = key
	if a.addrKey != "" {
		d.byAddr[a.addrKey]++
	}
	if a.registered {
		d.byClient[a.clientID]++
	}
	return code, a, nil
}

// evictIdleLocked drops the codes not yet approved whose client stopped
// polling: abandoned sign-ins, or codes requested only to fill the table.
func (d *devices) evictIdleLocked(now time.Time) {
	for key, a := range d.byDevice {
		idle := max(d.limits.IdleAfter, 3*a.interval)
		if a.userID == 0 && now.Sub(a.lastSeen) >= idle {
			d.deleteLocked(key, a)
		}
	}
}

// pending returns the authorization waiting for approval under userCode.
func (d *devices) pending(userCode string, now time.Time) (deviceAuth, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byDevice[d.byUser[userCode]]
	if !ok || !now.Before(a.expires) || a.userID != 0 {
		return deviceAuth{}, false
	}
	return *a, true
}

// approve records that userID approved userCode.
func (d *devices) approve(userCode string, userID psgate.UserID, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byDevice[d.byUser[userCode]]
	if !ok || !now.Before(a.expires) || a.userID != 0 {
		return false
	}
	a.userID = userID
	return true
}

// poll is one token request of the device flow (RFC 8628 section 3.5).
// It returns the approved authorization once, then forgets it.
func (d *devices) poll(code, clientID string, now time.Time) (deviceAuth, error) {
	key := refreshID(code)
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byDevice[key]
	if !ok || a.clientID != clientID {
		return deviceAuth{}, invalidGrant("the device code is unknown, already used, or was issued to another client")
	}
	a.lastSeen = now
	if !now.Before(a.expires) {
		d.deleteLocked(key, a)
		return deviceAuth{}, psgate.E(psgate.CodeDeviceCodeExpired, nil)
	}
	if now.Before(a.nextPoll) {
		a.interval += 5 * time.Second
		a.nextPoll = now.Add(a.interval - pollTolerance(a.interval))
		return deviceAuth{}, psgate.E(psgate.CodeSlowDown, nil).With("interval", strconv.Itoa(int(a.interval/time.Second)))
	}
	a.nextPoll = now.Add(a.interval - pollTolerance(a.interval))
	if a.userID == 0 {
		return deviceAuth{}, psgate.E(psgate.CodeAuthorizationPending, nil)
	}
	d.deleteLocked(key, a)
	return *a, nil
}

// pollTolerance forgives polls that arrive a little early (network
// jitter) without a slow_down.
func pollTolerance(interval time.Duration) time.Duration {
	return min(time.Second, interval/5)
}

func (d *devices) deleteLocked(key string, a *deviceAuth) {
	delete(d.byDevice, key)
	delete(d.byUser, a.userCode)
	if a.addrKey != "" {
		if d.byAddr[a.addrKey]--; d.byAddr[a.addrKey] <= 0 {
			delete(d.byAddr, a.addrKey)
		}
	}
	if a.registered {
		if d.byClient[a.clientID]--; d.byClient[a.clientID] <= 0 {
			delete(d.byClient, a.clientID)
		}
	}
}

func (d *devices) sweep(now time.Time) {
	d.mu.Lock()
	d.sweepLocked(now, expiredGrace)
	d.mu.Unlock()
}

// expiredGrace is how long an expired device code is remembered, so that
// a client still polling is told that its code expired
// (identity.device-code-expired) rather than that it is unknown.
const expiredGrace = 10 * time.Minute

func (d *devices) sweepLocked(now time.Time, grace time.Duration) {
	for key, a := range d.byDevice {
		if !now.Before(a.expires.Add(grace)) {
			d.deleteLocked(key, a)
		}
	}
}

func newUserCode() string {
	b := make([]byte, userCodeLen)
	for i := range b {
		b[i] = userCodeAlphabet[randIntn(len(userCodeAlphabet))]
	}
	return string(b)
}

// randIntn returns a uniform random number in [0, n), n ≤ 256.
func randIntn(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// normalizeUserCode accepts what a user types: any case, with or without
// the dash or spaces. It returns "" when the result cannot be a user code.
func normalizeUserCode(s string) string {
	if len(s) > 64 {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != userCodeLen {
		return ""
	}
	return b.String()
}

// formatUserCode shows a user code as XXXX-XXXX.
func formatUserCode(c string) string {
	if len(c) != userCodeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// deviceCodeResponse is the device authorization response (RFC 8628
// section 3.2).
type deviceCodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// serveDeviceCode is the device authorization endpoint.
func (s *Service) serveDeviceCode(w http.ResponseWriter, r *http.Request) {
	form, client, ok := s.clientRequest(w, r)
	if !ok {
		return
	}
	scope, err := scopeOf(form)
	if err != nil {
		s.writeOAuthError(w, err)
		return
	}
	now := s.cfg.Now()
	addr := s.ClientAddr(r)
	code, a, err := s.devices.start(deviceAuth{
		clientID:   client.id,
		registered: client.registered,
		addrKey:    addressKey(addr),
		tenantID:   client.rec.TenantID,
		scope:      scope,
		expires:    now.Add(s.cfg.DeviceCodeTTL),
		interval:   s.cfg.DevicePollInterval,
	}, addr, now)
	if errors.Is(err, errDevicesFull) {
		s.log.Warn("device authorization refused: the table of pending device codes is full", logkey.Client, addr)
		w.Header().Set("Retry-After", strconv.Itoa(int(s.devices.limits.IdleAfter/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, oauthErrorBody{
			Error:       "temporarily_unavailable",
			Description: "Too many device sign-ins are pending on this server; try again in a minute.",
		})
		return
	}
	if err != nil {
		s.log.Info("device authorization refused", logkey.Client, addr, logkey.ClientID, client.id, logkey.Err, err)
		s.writeOAuthError(w, err)
		return
	}
	uc := formatUserCode(a.userCode)
	writeJSON(w, http.StatusOK, deviceCodeResponse{
		DeviceCode:              code,
		UserCode:                uc,
		VerificationURI:         s.cfg.Issuer + PathDevice,
		VerificationURIComplete: s.cfg.Issuer + PathDevice + "?user_code=" + uc,
		ExpiresIn:               int64(a.expires.Sub(now) / time.Second),
		Interval:                int64(s.cfg.DevicePollInterval / time.Second),
	})
}
