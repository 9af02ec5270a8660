// Package config reads the configuration of psgate serve: built-in
// defaults, then one TOML file, then PSGATE_* environment variables, then
// flags, each overriding the one before. Secrets (the store's connection
// string, the demo administrator's password) can come from a file of their
// own, which must be private to psgate's user. Every problem is reported
// with where it is (file and line, variable or flag), all of them at once.
//
// The package knows nothing of the server: cmd/psgate maps a Config to
// server.Config. docs/configuration.md describes every key.
package config

import (
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of psgate serve.
type Config struct {
	DataDir          string
	HTTP, HTTPS      string
	AllowUnencrypted bool
	TrustedProxies   []netip.Prefix
	TLSCert, TLSKey  string
	// StoreDSN is the PostgreSQL connection string; empty means SQLite in
	// DataDir. Secret: show it with MaskDSN.
	StoreDSN string
	// BootstrapPassword is the demo administrator's first password; empty
	// generates one. Secret.
	BootstrapPassword string
	Issuer            string
	// FederationPrivateNetworks lets the gateway fetch identity providers
	// on private, loopback and link-local addresses.
	FederationPrivateNetworks bool
	MaxEnvelopeSize           int
	BodyTimeout               time.Duration
	MaxConnections            int
	ShutdownGrace             time.Duration
	// PartialShell, PartialUser, PartialTenant and PartialProcess bound the
	// bytes of unfinished PowerShell remoting messages held for one shell,
	// one user, one tenant and the whole process.
	PartialShell, PartialUser, PartialTenant, PartialProcess int64
	// AuditRetention is how long audit records are kept; 0 keeps them
	// forever.
	AuditRetention     time.Duration
	PasswordMemoryKiB  uint32
	PasswordIterations uint32
	PasswordThreads    uint8
	// PasswordConcurrent, PasswordQueue and PasswordPerAddress bound the
	// password hashing of sign-ins (identity.HashLimits): hashes at once,
	// sign-ins waiting for one, and checks per client address; 0 takes
	// the default, a PasswordQueue of -1 lets none wait.
	PasswordConcurrent, PasswordQueue, PasswordPerAddress int

	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string
	// AdminAddr is the admin listener (metrics, health, pprof); empty
	// disables it.
	AdminAddr string
	// HealthOnPublic also serves the health endpoints on the public
	// listeners.
	HealthOnPublic bool
	// MetricsTopTenants bounds the per-tenant shell series.
	MetricsTopTenants int
	// ModuleDir is the folder of module files; empty loads none.
	ModuleDir string
	// Cluster links the node to the others sharing its PostgreSQL store.
	Cluster Cluster

	// Warnings are settings that work but should change, such as a
	// password on the command line.
	Warnings []Problem

	origins map[string]Origin
	// secretFiles holds, by secret key, the file its value is read from.
	secretFiles map[string]string
}

// Cluster is the [cluster] table: the internal listener other nodes
// forward requests to, its certificates, and the lease timings.
type Cluster struct {
	Listen, URL                       string
	CA, Cert, Key                     string
	AffinityCookie                    bool
	LeaseTTL, LeaseRenew, LeaseMargin time.Duration
}

// Source is the layer a value came from.
type Source int

const (
	FromDefault Source = iota
	FromFile
	FromEnv
	FromFlag
)

// Origin is where a value was set.
type Origin struct {
	Kind Source
	// Name is the file, the environment variable or the flag (without
	// dashes).
	Name string
	// Line is the line in the file (FromFile); 0 when unknown.
	Line int
	// SecretFile is the file a secret was read from (a *_file key).
	SecretFile string
}

func (o Origin) String() string {
	var s string
	switch o.Kind {
	case FromDefault:
		s = "default"
	case FromFile:
		s = "file " + o.where()
	case FromEnv:
		s = "env " + o.Name
	case FromFlag:
		s = "flag --" + o.Name
	}
	if o.SecretFile != "" {
		s += " (read from " + o.SecretFile + ")"
	}
	return s
}

// where is file:line, or the file alone when the line is unknown.
func (o Origin) where() string {
	if o.Line > 0 {
		return fmt.Sprintf("%s:%d", o.Name, o.Line)
	}
	return o.Name
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	Origin  Origin
	Key     string
	Message string
}

// String is "file:line: key: message", "env VAR: key: message" or
// "flag --name: key: message".
func (p Problem) String() string {
	var b strings.Builder
	switch p.Origin.Kind {
	case FromFile:
		b.WriteString(p.Origin.where() + ": ")
	case FromEnv, FromFlag:
		o := p.Origin
		o.SecretFile = ""
		b.WriteString(o.String() + ": ")
	}
	if p.Key != "" && !strings.HasPrefix(p.Message, p.Key+" ") && !strings.Contains(p.Message, strconv.Quote(p.Key)) && !strings.Contains(p.Message, "["+p.Key+"]") {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is a configuration that cannot be used, with every problem found.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "configuration: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "configuration: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Options say where Load reads the configuration.
type Options struct {
	// File is the TOML configuration file; empty means none.
	File string
	// Env looks up an environment variable, as os.LookupEnv does. A
	// variable set to the empty string counts as set. Nil reads none.
	Env func(string) (string, bool)
	// Flags are the flags given on the command line, by name without
	// dashes, as text (a list comma-separated).
	Flags map[string]string
}

// Load reads the configuration: defaults, then the file, the environment
// and the flags, then the secret files; then checks it as a whole. The
// error is an *Error listing every problem; the Config returned with it
// holds what could be read.
func Load(opts Options) (*Config, error) {
	c := &Config{origins: map[string]Origin{}, secretFiles: map[string]string{}}
	list := Settings()
	byKey := make(map[string]Setting, len(list))
	for _, s := range list {
		byKey[s.Key] = s
	}
	var problems []Problem
	layer := func(source Source, assign func(apply func(s Setting, v value, o Origin))) {
		seen := map[string]Origin{}
		assign(func(s Setting, v value, o Origin) {
			o.Kind = source
			if p, ok := c.apply(byKey, s, v, o, seen); !ok {
				problems = append(problems, p)
			}
		})
	}
	layer(FromDefault, func(apply func(Setting, value, Origin)) {
		for _, s := range list {
			if s.SecretFor == "" {
				apply(s, textValue(s.Default), Origin{})
			}
		}
	})
	if opts.File != "" {
		layer(FromFile, func(apply func(Setting, value, Origin)) {
			problems = append(problems, c.loadFile(opts.File, byKey, apply)...)
		})
	}
	if opts.Env != nil {
		layer(FromEnv, func(apply func(Setting, value, Origin)) {
			for _, s := range list {
				if v, ok := opts.Env(s.Env); ok {
					apply(s, textValue(v), Origin{Name: s.Env})
				}
			}
		})
	}
	layer(FromFlag, func(apply func(Setting, value, Origin)) {
		for _, s := range list {
			if v, ok := opts.Flags[s.Flag]; ok && s.Flag != "" {
				apply(s, textValue(v), Origin{Name: s.Flag})
			}
		}
	})
	problems = append(problems, c.readSecrets(byKey)...)
	// The checks of the whole leave out the settings already refused,
	// whose values are not what the operator meant.
	bad := map[string]bool{}
	for _, p := range problems {
		bad[p.Key] = true
		bad[strings.TrimSuffix(p.Key, "_file")] = true
	}
	problems = append(problems, c.validate(bad)...)
	if len(problems) > 0 {
		sortProblems(problems)
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// Check reads a configuration file on its own (defaults and the file, no
// environment, no flags), as psgate config check does.
func Check(file string) (*Config, error) {
	return Load(Options{File: file})
}

// apply sets one value from one layer. seen holds the secrets already set
// in this layer: a secret and its *_file key in the same layer contradict
// each other.
func (c *Config) apply(byKey map[string]Setting, s Setting, v value, o Origin, seen map[string]Origin) (Problem, bool) {
	target := s.Key
	if s.SecretFor != "" {
		target = s.SecretFor
	}
	if prev, dup := seen[target]; dup {
		return Problem{Origin: o, Key: s.Key, Message: fmt.Sprintf("set %s or %s, not both (the other is set at %s)", target, target+"_file", prev)}, false
	}
	seen[target] = o
	if s.SecretFor == "" {
		if err := s.set(c, v); err != nil {
			return Problem{Origin: o, Key: s.Key, Message: err.Error()}, false
		}
		delete(c.secretFiles, s.Key)
		c.origins[s.Key] = o
		return Problem{}, true
	}
	path, err := v.str("a path")
	if err != nil {
		return Problem{Origin: o, Key: s.Key, Message: err.Error()}, false
	}
	// The file replaces a value set before, and an empty path none.
	if err := byKey[target].set(c, textValue("")); err != nil {
		return Problem{Origin: o, Key: s.Key, Message: err.Error()}, false
	}
	c.secretFiles[target] = v.resolve(path)
	c.origins[target] = o
	return Problem{}, true
}

// loadFile applies a configuration file's settings, and refuses a secret
// written in a file others can read.
func (c *Config) loadFile(name string, byKey map[string]Setting, apply func(Setting, value, Origin)) []Problem {
	f, err := os.Open(name)
	if err != nil {
		return []Problem{{Origin: Origin{Kind: FromFile, Name: name}, Message: fmt.Sprintf("cannot read the configuration file: %v", err)}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err == nil && len(data) > maxFile {
		err = fmt.Errorf("larger than %d bytes", maxFile)
	}
	if err != nil {
		return []Problem{{Origin: Origin{Kind: FromFile, Name: name}, Message: fmt.Sprintf("cannot read the configuration file: %v", err)}}
	}
	entries, problems := parseFile(name, data)
	dir := filepath.Dir(name)
	for _, e := range entries {
		apply(byKey[e.key], value{v: e.val, dir: dir}, Origin{Name: name, Line: e.line})
	}
	fi, err := f.Stat()
	if err != nil || !exposed(fi, 0o077) {
		return problems
	}
	for _, e := range entries {
		var what string
		switch s, _ := e.val.(string); {
		case e.key == "store.dsn" && s != "" && dsnHasPassword(s):
			what = "store.dsn has a password"
		case e.key == "bootstrap.password" && s != "":
			what = "bootstrap.password is set"
		default:
			continue
		}
		problems = append(problems, Problem{Origin: Origin{Kind: FromFile, Name: name, Line: e.line}, Key: e.key,
			Message: fmt.Sprintf("%s in a file readable by group or others (mode %#o): move the secret to %s_file, or make the file private: chmod 600 %s",
				what, fi.Mode().Perm(), e.key, name)})
	}
	return problems
}

// Sizes of the files read: a configuration file (a complete one is under
// 4 KiB; the TOML decoder slows down on tens of thousands of keys), and a
// secret.
const (
	maxFile   = 64 << 10
	maxSecret = 64 << 10
)

// readSecrets reads every secret set by a *_file key.
func (c *Config) readSecrets(byKey map[string]Setting) []Problem {
	keys := make([]string, 0, len(c.secretFiles))
	for k := range c.secretFiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []Problem
	for _, k := range keys {
		path := c.secretFiles[k]
		if path == "" {
			continue
		}
		o := c.origins[k]
		text, err := readSecret(path)
		if err == nil {
			if err = byKey[k].set(c, textValue(text)); err != nil {
				err = fmt.Errorf("the secret in %s: %w", path, err)
			}
		}
		if err != nil {
			problems = append(problems, Problem{Origin: o, Key: k + "_file", Message: err.Error()})
			continue
		}
		o.SecretFile = path
		c.origins[k] = o
	}
	return problems
}

// readSecret reads a secret from a file that only its owner may read, as
// ssh does a private key; a final line break is not part of it.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot read the secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if exposed(fi, 0o077) {
		return "", fmt.Errorf("%s is readable or writable by group or others (mode %#o): a secret must be private to psgate's user; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("cannot read the secret file: %w", err)
	}
	if len(data) > maxSecret {
		return "", fmt.Errorf("%s is larger than %d bytes: is it the right file?", path, maxSecret)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// exposed reports whether a file's mode gives any of the bits in perm.
// Windows has no such bits: its files are protected by ACLs.
func exposed(fi os.FileInfo, perm os.FileMode) bool {
	return runtime.GOOS != "windows" && fi.Mode().Perm()&perm != 0
}

// validate checks what no single value shows, leaving out the settings
// in bad.
func (c *Config) validate(bad map[string]bool) []Problem {
	var problems []Problem
	add := func(key, msg string) {
		problems = append(problems, Problem{Origin: c.origins[key], Key: key, Message: msg})
	}
	ok := func(keys ...string) bool {
		for _, k := range keys {
			if bad[k] {
				return false
			}
		}
		return true
	}
	if c.HTTP == "" && c.HTTPS == "" && ok("listen.http", "listen.https") {
		add("listen.https", "no listener: listen.http and listen.https are both empty; set one (--https, --http)")
	}
	if c.HTTP != "" && !c.AllowUnencrypted && !isLoopback(c.HTTP) && ok("listen.http", "listen.allow_unencrypted") {
		add("listen.http", fmt.Sprintf("refusing plain HTTP on %s: credentials would travel unencrypted; use a loopback address, HTTPS, or set listen.allow_unencrypted = true (--allow-unencrypted)", c.HTTP))
	}
	switch {
	case !ok("tls.cert", "tls.key"):
	case c.TLSCert != "" && c.TLSKey == "":
		add("tls.cert", "tls.cert is set but tls.key is not: set both, or neither for a self-signed certificate")
	case c.TLSKey != "" && c.TLSCert == "":
		add("tls.key", "tls.key is set but tls.cert is not: set both, or neither for a self-signed certificate")
	case c.TLSCert != "":
		problems = append(problems, c.checkKeyPair()...)
	}
	if o := c.origins["store.dsn"]; o.Kind == FromFlag && dsnHasPassword(c.StoreDSN) {
		c.Warnings = append(c.Warnings, Problem{Origin: o, Key: "store.dsn",
			Message: "the store password is on the command line, where every user of this machine can read it (ps); use store.dsn_file or PSGATE_STORE_DSN_FILE"})
	}
	return problems
}

// checkKeyPair reads the TLS certificate and key and checks that they
// match. The key, like any secret, must not be readable by others; a group
// may read it (the ssl-cert group of Debian's /etc/ssl/private).
func (c *Config) checkKeyPair() []Problem {
	var problems []Problem
	cert, err := os.ReadFile(c.TLSCert)
	if err != nil {
		problems = append(problems, Problem{Origin: c.origins["tls.cert"], Key: "tls.cert", Message: fmt.Sprintf("cannot read the certificate: %v", err)})
	}
	var key []byte
	f, err := os.Open(c.TLSKey)
	if err == nil {
		defer f.Close()
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && exposed(fi, 0o007) {
			err = fmt.Errorf("%s is readable or writable by others (mode %#o): run chmod 600 %s (or 640, for a group)", c.TLSKey, fi.Mode().Perm(), c.TLSKey)
		} else if err == nil {
			key, err = io.ReadAll(io.LimitReader(f, maxSecret))
		}
	}
	if err != nil {
		problems = append(problems, Problem{Origin: c.origins["tls.key"], Key: "tls.key", Message: fmt.Sprintf("the private key: %v", err)})
	}
	if len(problems) > 0 {
		return problems
	}
	if encryptedKey(key) {
		return []Problem{{Origin: c.origins["tls.key"], Key: "tls.key",
			Message: fmt.Sprintf("%s is encrypted: psgate reads an unencrypted key protected by its file mode; decrypt it with openssl pkey -in %s -out KEY.pem", c.TLSKey, c.TLSKey)}}
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		problems = append(problems, Problem{Origin: c.origins["tls.cert"], Key: "tls.cert", Message: fmt.Sprintf("tls.cert and tls.key are not a certificate and its key: %v", err)})
	}
	return problems
}

// encryptedKey reports whether a PEM key is encrypted (PKCS #8 or the
// legacy OpenSSL headers), which Go's TLS does not read.
func encryptedKey(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}

// sortProblems orders problems as a reader meets them: the file by line,
// then the environment, then the flags.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Origin, ps[j].Origin
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Name < b.Name
	})
}

// Value is one effective setting, as psgate config show prints it.
type Value struct {
	Setting
	// Value is the setting's text, with secrets masked.
	Value  string
	Origin Origin
}

// Values lists every setting with its effective value (secrets masked)
// and where it came from. A *_file key is not listed: its secret's origin
// names the file.
func (c *Config) Values() []Value {
	var out []Value
	for _, s := range Settings() {
		if s.SecretFor != "" {
			continue
		}
		out = append(out, Value{Setting: s, Value: s.show(c), Origin: c.origins[s.Key]})
	}
	return out
}

// Origin says where a setting's value came from.
func (c *Config) Origin(key string) Origin { return c.origins[key] }
