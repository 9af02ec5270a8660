package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// value is one setting's raw value: a decoded TOML value from the file, or
// text from a flag, the environment or the built-in defaults.
type value struct {
	v    any
	text bool
	// dir is the configuration file's directory: a relative path in the
	// file is relative to it.
	dir string
}

func textValue(s string) value { return value{v: s, text: true} }

func (v value) str(want string) (string, error) {
	if s, ok := v.v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("want %s, not %s", want, tomlType(v.v))
}

func (v value) boolean() (bool, error) {
	if v.text {
		b, err := strconv.ParseBool(v.v.(string))
		if err != nil {
			return false, fmt.Errorf("%q: want true or false", v.v)
		}
		return b, nil
	}
	if b, ok := v.v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("want true or false, not %s", tomlType(v.v))
}

func (v value) integer() (int64, error) {
	if v.text {
		n, err := strconv.ParseInt(v.v.(string), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: want a whole number", v.v)
		}
		return n, nil
	}
	if n, ok := v.v.(int64); ok {
		return n, nil
	}
	return 0, fmt.Errorf("want a whole number, not %s", tomlType(v.v))
}

// list reads a TOML array of strings, or comma-separated text.
func (v value) list(what string) ([]string, error) {
	if v.text {
		var out []string
		for _, s := range strings.Split(v.v.(string), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	arr, ok := v.v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of %s such as [\"10.0.0.0/24\"], not %s", what, tomlType(v.v))
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("item %d: want a string, not %s", i+1, tomlType(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// resolve makes a relative path in the configuration file relative to the
// file's directory; other paths are taken as they are.
func (v value) resolve(path string) string {
	if v.dir == "" || path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(v.dir, path)
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", v)
}

// checkAddr accepts host:port with a numeric port, where host is empty
// (every address), an IP address or a host name.
func checkAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not an address: want host:port, such as \":5986\" or \"127.0.0.1:5986\"", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: the port %q is not a number from 0 to 65535", s, port)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !isHostName(host) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", s, host)
	}
	return nil
}

// isHostName reports whether s is a DNS name: dot-separated labels of
// letters, digits and hyphens.
func isHostName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// isLoopback reports whether a listen address accepts loopback connections
// only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// checkDSN accepts a PostgreSQL URL or a key=value connection string.
func checkDSN(s string) error {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("not a PostgreSQL URL: %v", redactURLError(err))
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Errorf("the scheme %q is not postgres:// or postgresql://", u.Scheme)
		}
		return nil
	}
	if !strings.Contains(s, "=") {
		return fmt.Errorf("want a PostgreSQL URL (postgres://user@host/db) or a key=value connection string (host=db user=psgate)")
	}
	return nil
}

// redactURLError keeps a URL's text (which may hold a password) out of a
// parse error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an http or https URL such as \"https://gw.example.com:5986\"", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: an issuer URL has no query or fragment", s)
	}
	return nil
}

const mask = "xxxxx"

// keywordPassword finds password=... in a key=value connection string.
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)

// urlForm matches a connection string in URL form (postgres://…): a
// scheme at the very start. Anywhere else "://" is text, for instance in
// the password of a keyword/value string ("host=db password=a://b").
var urlForm = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// dsnHasPassword reports whether a connection string carries a password.
func dsnHasPassword(dsn string) bool {
	if urlForm.MatchString(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			return true // cannot tell: treat it as secret
		}
		_, ok := u.User.Password()
		return ok || u.Query().Has("password")
	}
	return keywordPassword.MatchString(dsn)
}

// MaskDSN returns a connection string with its password replaced by xxxxx.
func MaskDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if urlForm.MatchString(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			return mask
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", mask)
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return keywordPassword.ReplaceAllString(dsn, "${1}"+mask)
}

// maskSecret shows whether a secret is set, never its text.
func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return mask
}
