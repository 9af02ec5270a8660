package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeFile writes a file with a mode, whatever the umask.
func writeFile(t *testing.T, path, text string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *config.Error", err)
	}
	out := make([]string, len(ce.Problems))
	for i, p := range ce.Problems {
		out[i] = p.String()
	}
	return out
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// Every problem of a file is reported at once, each with its line, in
// the order of the file.
func TestCheckReportsEveryProblemWithItsLine(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "psgate.toml"), `# psgate
data_dir = "/var/lib/psgate"
https = ":5986"

[listen]
http = "0.0.0.0:99999"
htps = ":5986"
allow_unencrypted = "yes"
trusted_proxies = ["10.0.0.0/24", "bogus"]

[limits]
body_timeout = "-5s"
max_envelope_size = "big"
max_connections = 0

[store]
dsn_file = "missing-dsn"

[listn]
x = 1

[log]
level = "loud"
format = "yaml"

[audit]
retention = "-3h"
`, 0o600)
	_, err := Check(file)
	got := problems(t, err)
	want := []string{
		file + `:3: unknown key "https"; did you mean "listen.https"?`,
		file + `:6: listen.http: "0.0.0.0:99999": the port "99999" is not a number from 0 to 65535`,
		file + `:7: unknown key "listen.htps"; did you mean`,
		file + `:8: listen.allow_unencrypted: want true or false, not a string`,
		file + `:9: listen.trusted_proxies: "bogus": want an address`,
		file + `:12: limits.body_timeout: "-5s": the duration must be more than 0`,
		file + `:13: limits.max_envelope_size: want a whole number, not a string`,
		file + `:14: limits.max_connections: 0 is out of range: use 1 or more`,
		file + `:17: store.dsn_file: cannot read the secret file: open ` + filepath.Join(dir, "missing-dsn"),
		file + `:19: unknown table [listn]; did you mean [listen]?`,
		file + `:23: log.level: "loud": use debug, info, warn or error`,
		file + `:24: log.format: "yaml": use text or json`,
		file + `:27: audit.retention: "-3h": the duration must not be negative`,
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

func TestSyntaxErrorHasItsLine(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"[listen]\nhttp = \"127.0.0.1:5985\"\nhttps = :5986\n", ":3: TOML syntax:"},
		{"[listen]\nhttp = \"a:1\"\nhttp = \"b:2\"\n", ":3: TOML syntax:"},
		{"data_dir = \"x\"\n[listen\n", ":2: TOML syntax:"},
	} {
		file := writeFile(t, filepath.Join(t.TempDir(), "psgate.toml"), tt.text, 0o600)
		_, err := Check(file)
		got := problems(t, err)
		if len(got) != 1 || !strings.Contains(got[0], file+tt.want) {
			t.Errorf("%q: problems %q, want one containing %q", tt.text, got, file+tt.want)
		}
	}
}

func TestTypeErrorsSayWhatIsWanted(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"[listen]\nhttps = 5986\n", `:2: listen.https: want an address such as ":5986" or "127.0.0.1:5986", not an integer`},
		{"[listen]\ntrusted_proxies = \"10.0.0.1\"\n", `:2: listen.trusted_proxies: want a list of addresses or CIDR prefixes such as ["10.0.0.0/24"], not a string`},
		{"[limits]\nbody_timeout = 30\n", `:2: limits.body_timeout: want a duration such as "30s" or "2m", not an integer`},
		{"listen = \"x\"\n", `:1: listen is a table: write [listen] and its keys below it, not a string`},
		{"[listen.http]\nport = 1\n", `:1: listen.http: want an address`},
		{"[log]\nlevel.x = \"debug\"\n", `:2: log.level: want "debug", "info", "warn" or "error", not a table`},
		{"[password_hash]\nthreads = 300\n", `:2: password_hash.threads: 300 is out of range: use 1 to 255`},
		{"[limits]\nmax_envelope_size = 4096\n", `:2: limits.max_envelope_size: 4096 is out of range: use 8192 or more`},
		{"[identity]\nissuer = \"gw.example.com\"\n", `:2: identity.issuer: "gw.example.com": want an http or https URL`},
		{"[store]\ndsn = \"mysql://db/x\"\n", `:2: store.dsn: the scheme "mysql" is not postgres:// or postgresql://`},
		{"\"listen.https\" = \":5986\"\n", `:1: the quoted key "listen.https" is one name with a dot in it: write it unquoted, listen.https = ...`},
	} {
		file := writeFile(t, filepath.Join(t.TempDir(), "psgate.toml"), tt.text, 0o600)
		_, err := Check(file)
		got := problems(t, err)
		if len(got) != 1 || !strings.Contains(got[0], file+tt.want) {
			t.Errorf("%q: problems %q, want one containing %q", tt.text, got, file+tt.want)
		}
	}
}

// The layers override each other in one order: default < file < env <
// flag, and each value says where it came from.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "psgate.toml"), "[listen]\nhttps = \"127.0.0.1:1001\"\n[log]\nlevel = \"warn\"\n", 0o600)
	for _, tt := range []struct {
		name       string
		file       string
		env, flags map[string]string
		want       string
		origin     string
	}{
		{"default", "", nil, nil, DefaultHTTPS, "default"},
		{"file over default", file, nil, nil, "127.0.0.1:1001", "file " + file + ":2"},
		{"env over file", file, map[string]string{"PSGATE_LISTEN_HTTPS": "127.0.0.1:1002"}, nil, "127.0.0.1:1002", "env PSGATE_LISTEN_HTTPS"},
		{"flag over env", file, map[string]string{"PSGATE_LISTEN_HTTPS": "127.0.0.1:1002"}, map[string]string{"https": "127.0.0.1:1003"}, "127.0.0.1:1003", "flag --https"},
		{"flag over file", file, nil, map[string]string{"https": "127.0.0.1:1003"}, "127.0.0.1:1003", "flag --https"},
		{"empty env disables", file, map[string]string{"PSGATE_LISTEN_HTTPS": ""}, nil, "", "env PSGATE_LISTEN_HTTPS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(Options{File: tt.file, Env: env(tt.env), Flags: tt.flags})
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTPS != tt.want || c.Origin("listen.https").String() != tt.origin {
				t.Errorf("listen.https = %q from %s, want %q from %s", c.HTTPS, c.Origin("listen.https"), tt.want, tt.origin)
			}
			// Untouched settings keep their own layer.
			if tt.file != "" && c.Origin("log.level").String() != "file "+file+":4" {
				t.Errorf("log.level from %s, want the file", c.Origin("log.level"))
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != DefaultDataDir || c.HTTP != DefaultHTTP || c.HTTPS != DefaultHTTPS || c.AllowUnencrypted ||
		c.MaxEnvelopeSize != DefaultMaxEnvelopeSize || c.BodyTimeout != DefaultBodyTimeout ||
		c.MaxConnections != DefaultMaxConnections || c.ShutdownGrace != DefaultShutdownGrace ||
		c.AuditRetention != DefaultAuditRetention || c.PasswordMemoryKiB != DefaultPasswordMemoryKiB ||
		c.PasswordIterations != DefaultPasswordIterations || c.PasswordThreads != DefaultPasswordThreads ||
		c.LogFormat != "text" || c.StoreDSN != "" || c.BootstrapPassword != "" ||
		c.PartialShell != DefaultPartialShell || c.PartialProcess != DefaultPartialProcess {
		t.Errorf("defaults: %+v", c)
	}
	for _, v := range c.Values() {
		if v.Origin.Kind != FromDefault {
			t.Errorf("%s from %s, want default", v.Key, v.Origin)
		}
	}
}

func TestEnvAndFlagValuesAreChecked(t *testing.T) {
	_, err := Load(Options{
		Env:   env(map[string]string{"PSGATE_LIMITS_BODY_TIMEOUT": "soon", "PSGATE_LISTEN_ALLOW_UNENCRYPTED": "maybe"}),
		Flags: map[string]string{"max-connections": "-1", "trusted-proxy": "10.0.0.0/8,nonsense"},
	})
	got := problems(t, err)
	want := []string{
		`env PSGATE_LIMITS_BODY_TIMEOUT: limits.body_timeout: "soon" is not a duration`,
		`env PSGATE_LISTEN_ALLOW_UNENCRYPTED: listen.allow_unencrypted: "maybe": want true or false`,
		`flag --max-connections: limits.max_connections: -1 is out of range`,
		`flag --trusted-proxy: listen.trusted_proxies: "nonsense": want an address`,
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("got %s\nwant %s...", got[i], want[i])
		}
	}
}

func TestPlainHTTPOnTheNetworkNeedsAllowUnencrypted(t *testing.T) {
	_, err := Load(Options{Flags: map[string]string{"http": "0.0.0.0:5985"}})
	if got := problems(t, err); len(got) != 1 || !strings.Contains(got[0], "flag --http: listen.http: refusing plain HTTP on 0.0.0.0:5985") || !strings.Contains(got[0], "--allow-unencrypted") {
		t.Errorf("problems %q", got)
	}
	if _, err := Load(Options{Flags: map[string]string{"http": "0.0.0.0:5985", "allow-unencrypted": "true"}}); err != nil {
		t.Errorf("with allow_unencrypted: %v", err)
	}
	_, err = Load(Options{Flags: map[string]string{"http": "", "https": ""}})
	if got := problems(t, err); len(got) != 1 || !strings.Contains(got[0], "no listener") {
		t.Errorf("no listener: problems %q", got)
	}
}

func TestRelativePathsInTheFileAreRelativeToIt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "dsn"), "postgres://psgate:s3cret@db/psgate\n", 0o600)
	file := writeFile(t, filepath.Join(dir, "psgate.toml"), "data_dir = \"data\"\n[store]\ndsn_file = \"dsn\"\n", 0o644)
	c, err := Load(Options{File: file, Flags: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") {
		t.Errorf("data_dir %q, want it next to the file", c.DataDir)
	}
	// From a flag, a relative path stays relative to the working directory.
	c, err = Load(Options{File: file, Flags: map[string]string{"data": "here"}})
	if err != nil || c.DataDir != "here" {
		t.Errorf("data_dir %q, %v", c.DataDir, err)
	}
}

func TestSecretFromAFile(t *testing.T) {
	dir := t.TempDir()
	dsn := writeFile(t, filepath.Join(dir, "dsn"), "postgres://psgate:s3cret@db.example.com/psgate\n", 0o600)
	file := writeFile(t, filepath.Join(dir, "psgate.toml"), "[store]\ndsn_file = \""+dsn+"\"\n", 0o644)
	c, err := Check(file)
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreDSN != "postgres://psgate:s3cret@db.example.com/psgate" {
		t.Errorf("store.dsn = %q, want the file's line without its line break", c.StoreDSN)
	}
	o := c.Origin("store.dsn")
	if want := "file " + file + ":2 (read from " + dsn + ")"; o.String() != want {
		t.Errorf("origin %q, want %q", o, want)
	}
	for _, v := range c.Values() {
		if strings.Contains(v.Value, "s3cret") {
			t.Errorf("%s shows the secret: %s", v.Key, v.Value)
		}
		if v.Key == "store.dsn" && v.Value != "postgres://psgate:xxxxx@db.example.com/psgate" {
			t.Errorf("store.dsn shown as %q", v.Value)
		}
	}

	// The environment's file beats the configuration file's, which is
	// then not read at all.
	other := writeFile(t, filepath.Join(dir, "other"), "postgres://psgate:other@db2/psgate", 0o600)
	if err := os.Remove(dsn); err != nil {
		t.Fatal(err)
	}
	c, err = Load(Options{File: file, Env: env(map[string]string{"PSGATE_STORE_DSN_FILE": other})})
	if err != nil || c.StoreDSN != "postgres://psgate:other@db2/psgate" || c.Origin("store.dsn").String() != "env PSGATE_STORE_DSN_FILE (read from "+other+")" {
		t.Errorf("store.dsn %q from %s: %v", c.StoreDSN, c.Origin("store.dsn"), err)
	}
	// A value in the environment beats a file named by the file.
	c, err = Load(Options{File: file, Env: env(map[string]string{"PSGATE_STORE_DSN": "host=db user=psgate"})})
	if err != nil || c.StoreDSN != "host=db user=psgate" {
		t.Errorf("store.dsn %q: %v", c.StoreDSN, err)
	}
}

func TestSecretFileMustBePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no mode bits")
	}
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		pw := writeFile(t, filepath.Join(dir, "pw"), "Correct-Horse-1\n", mode)
		_, err := Load(Options{Env: env(map[string]string{"PSGATE_BOOTSTRAP_PASSWORD_FILE": pw})})
		got := problems(t, err)
		if len(got) != 1 || !strings.Contains(got[0], "env PSGATE_BOOTSTRAP_PASSWORD_FILE: bootstrap.password_file: "+pw+" is readable or writable by group or others") || !strings.Contains(got[0], "chmod 600 "+pw) {
			t.Errorf("mode %#o: problems %q", mode, got)
		}
	}
	pw := writeFile(t, filepath.Join(dir, "pw"), "Correct-Horse-1\n", 0o400)
	c, err := Load(Options{Env: env(map[string]string{"PSGATE_BOOTSTRAP_PASSWORD_FILE": pw})})
	if err != nil || c.BootstrapPassword != "Correct-Horse-1" {
		t.Errorf("0400: %q, %v", c.BootstrapPassword, err)
	}
	empty := writeFile(t, filepath.Join(dir, "empty"), "\n", 0o600)
	_, err = Load(Options{Env: env(map[string]string{"PSGATE_STORE_DSN_FILE": empty})})
	if got := problems(t, err); len(got) != 1 || !strings.Contains(got[0], empty+" is empty") {
		t.Errorf("empty secret file: %q", got)
	}
	short := writeFile(t, filepath.Join(dir, "short"), "abc\n", 0o600)
	_, err = Load(Options{Env: env(map[string]string{"PSGATE_BOOTSTRAP_PASSWORD_FILE": short})})
	if got := problems(t, err); len(got) != 1 || !strings.Contains(got[0], "at least 8 characters") || strings.Contains(got[0], "abc") {
		t.Errorf("short password from a file: %q", got)
	}
}

// A secret written in the configuration file itself makes the file a
// secret: it must then be private too.
func TestSecretInASharedConfigurationFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no mode bits")
	}
	dir := t.TempDir()
	text := "[store]\ndsn = \"postgres://psgate:s3cret@db/psgate\"\n[bootstrap]\npassword = \"Correct-Horse-1\"\n"
	shared := writeFile(t, filepath.Join(dir, "shared.toml"), text, 0o644)
	_, err := Check(shared)
	got := problems(t, err)
	if len(got) != 2 || !strings.HasPrefix(got[0], shared+":2: store.dsn has a password in a file readable by group or others (mode 0644)") ||
		!strings.HasPrefix(got[1], shared+":4: bootstrap.password is set in a file readable") || !strings.Contains(got[0], "store.dsn_file") {
		t.Errorf("problems %q", got)
	}
	if strings.Contains(strings.Join(got, ""), "s3cret") {
		t.Errorf("a problem shows the secret")
	}
	private := writeFile(t, filepath.Join(dir, "private.toml"), text, 0o600)
	if _, err := Check(private); err != nil {
		t.Errorf("private file: %v", err)
	}
	// A connection string without a password is no secret.
	open := writeFile(t, filepath.Join(dir, "open.toml"), "[store]\ndsn = \"postgres://psgate@db/psgate\"\n", 0o644)
	if _, err := Check(open); err != nil {
		t.Errorf("no password: %v", err)
	}
}

func TestSecretAndItsFileInOneLayer(t *testing.T) {
	_, err := Load(Options{Env: env(map[string]string{"PSGATE_STORE_DSN": "host=db", "PSGATE_STORE_DSN_FILE": "/x"})})
	got := problems(t, err)
	if len(got) != 1 || !strings.Contains(got[0], "set store.dsn or store.dsn_file, not both") {
		t.Errorf("problems %q", got)
	}
}

func TestPasswordOnTheCommandLineWarns(t *testing.T) {
	c, err := Load(Options{Flags: map[string]string{"store": "postgres://psgate:s3cret@db/psgate"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].String(), "flag --store: store.dsn: the store password is on the command line") {
		t.Errorf("warnings %v", c.Warnings)
	}
	c, _ = Load(Options{Flags: map[string]string{"store": "postgres://psgate@db/psgate"}})
	if len(c.Warnings) != 0 {
		t.Errorf("no password, warnings %v", c.Warnings)
	}
}

func TestMaskDSN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://psgate:s3cret@db:5432/psgate?sslmode=require", "postgres://psgate:xxxxx@db:5432/psgate?sslmode=require"},
		{"postgres://psgate@db/psgate?password=s3cret", "postgres://psgate@db/psgate?password=xxxxx"},
		{"postgres://psgate@db/psgate", "postgres://psgate@db/psgate"},
		{"host=db user=psgate password=s3cret dbname=psgate", "host=db user=psgate password=xxxxx dbname=psgate"},
		{"host=db password='s3 cret' user=psgate", "host=db password=xxxxx user=psgate"},
		{"", ""},
	} {
		if got := MaskDSN(tt.in); got != tt.want {
			t.Errorf("MaskDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAuditRetention(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"180d", 180 * 24 * time.Hour}, {"2w", 14 * 24 * time.Hour}, {"36h", 36 * time.Hour}, {"0", 0}} {
		c, err := Load(Options{Flags: map[string]string{"audit-retention": tt.in}})
		if err != nil || c.AuditRetention != tt.want {
			t.Errorf("audit.retention %q = %v, %v; want %v", tt.in, c.AuditRetention, err, tt.want)
		}
	}
}

// selfSigned writes a certificate and its key.
func selfSigned(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert = writeFile(t, filepath.Join(dir, name+".crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	key = writeFile(t, filepath.Join(dir, name+".key"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})), 0o600)
	return cert, key
}

func TestTLSCertificateAndKey(t *testing.T) {
	dir := t.TempDir()
	certA, keyA := selfSigned(t, dir, "a")
	_, keyB := selfSigned(t, dir, "b")
	load := func(cert, key string) error {
		file := writeFile(t, filepath.Join(dir, "psgate.toml"), "[tls]\ncert = \""+cert+"\"\nkey = \""+key+"\"\n", 0o644)
		_, err := Check(file)
		return err
	}
	if err := load(certA, keyA); err != nil {
		t.Errorf("matching pair: %v", err)
	}
	if got := problems(t, load(certA, keyB)); len(got) != 1 || !strings.Contains(got[0], ":2: tls.cert and tls.key are not a certificate and its key") {
		t.Errorf("mismatched pair: %q", got)
	}
	if got := problems(t, load(certA, "")); len(got) != 1 || !strings.Contains(got[0], "tls.cert is set but tls.key is not") {
		t.Errorf("no key: %q", got)
	}
	if got := problems(t, load(filepath.Join(dir, "nope.crt"), keyA)); len(got) != 1 || !strings.Contains(got[0], ":2: tls.cert: cannot read the certificate") {
		t.Errorf("missing certificate: %q", got)
	}
	enc := writeFile(t, filepath.Join(dir, "enc.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", 0o600)
	if got := problems(t, load(certA, enc)); len(got) != 1 || !strings.Contains(got[0], ":3: tls.key: "+enc+" is encrypted") {
		t.Errorf("encrypted key: %q", got)
	}
	if runtime.GOOS != "windows" {
		// A group may read the key (Debian's ssl-cert); others may not.
		if err := os.Chmod(keyA, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := load(certA, keyA); err != nil {
			t.Errorf("key 0640: %v", err)
		}
		if err := os.Chmod(keyA, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := problems(t, load(certA, keyA)); len(got) != 1 || !strings.Contains(got[0], ":3: tls.key: the private key: "+keyA+" is readable or writable by others (mode 0644)") {
			t.Errorf("key 0644: %q", got)
		}
	}
}

// Every key is documented in docs/configuration.md with its variable and
// its flag.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		for _, want := range []string{"`" + s.Key + "`", "`" + s.Env + "`"} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("docs/configuration.md lacks %s", want)
			}
		}
		if s.Flag != "" && !strings.Contains(string(doc), "`--"+s.Flag+"`") {
			t.Errorf("docs/configuration.md lacks `--%s`", s.Flag)
		}
	}
}

// Every setting's environment variable follows one rule, and no two
// settings share a flag or a variable.
func TestNamesAreSystematic(t *testing.T) {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if want := "PSGATE_" + strings.ToUpper(strings.ReplaceAll(s.Key, ".", "_")); s.Env != want {
			t.Errorf("%s: env %s, want %s", s.Key, s.Env, want)
		}
		if s.Flag != "" && flags[s.Flag] || envs[s.Env] {
			t.Errorf("%s: flag or variable used twice", s.Key)
		}
		flags[s.Flag], envs[s.Env] = true, true
		if s.Secret && s.Flag != "" && s.Key != "store.dsn" {
			t.Errorf("%s is a secret with a flag: argv is visible to every user", s.Key)
		}
		if s.SecretFor != "" && s.Key != s.SecretFor+"_file" {
			t.Errorf("%s supplies %s: want the name %s_file", s.Key, s.SecretFor, s.SecretFor)
		}
	}
}
