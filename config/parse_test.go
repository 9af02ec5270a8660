package config

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary files to the parser and applies what it
// returns as Load does (without reading secret files): nothing panics,
// every setting and every problem but a syntax error has its line, and
// showing the result never fails. The corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"data_dir = \"/var/lib/psgate\"\n[listen]\nhttps = \":5986\"\ntrusted_proxies = [\"10.0.0.0/24\"]\n",
		"listen.http = \"127.0.0.1:5985\"\nlisten = { https = \":1\" }\n",
		"[[listen]]\nhttp = 1\n[listn.x]\ny = 2\n",
		"[limits]\nbody_timeout = 1979-05-27T07:32:00Z\nmax_connections = 1e3\n",
		"[store]\ndsn = \"postgres://a:b@c/d\"\ndsn_file = \"x\"\n",
		"a = [{b = 1}, [2]]\n\"listen\".\"https\" = \"h:2\"\n",
	} {
		f.Add([]byte(seed))
	}
	if example, err := os.ReadFile(filepath.Join("..", "dist", "psgate.toml")); err == nil {
		f.Add(example)
	}
	byKey := map[string]Setting{}
	for _, s := range Settings() {
		byKey[s.Key] = s
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFile {
			return // Load refuses it unread
		}
		entries, problems := parseFile("f.toml", data)
		c := &Config{origins: map[string]Origin{}, secretFiles: map[string]string{}}
		seen := map[string]Origin{}
		for _, e := range entries {
			s, ok := byKey[e.key]
			if !ok {
				t.Fatalf("an entry for the unknown key %q", e.key)
			}
			if e.line < 1 {
				t.Fatalf("%s has no line", e.key)
			}
			c.apply(byKey, s, value{v: e.val, dir: "/etc/psgate"}, Origin{Kind: FromFile, Name: "f.toml", Line: e.line}, seen)
		}
		for _, p := range problems {
			if p.Origin.Line < 1 && !strings.Contains(p.Message, "TOML syntax") {
				t.Fatalf("problem without a line: %s", p)
			}
		}
		for _, v := range c.Values() {
			_ = v.Origin.String()
		}
	})
}

func TestSuggestions(t *testing.T) {
	for _, tt := range []struct{ typed, want string }{
		{"https", `"listen.https"`},
		{"listen.htps", `"listen.https"`},
		{"store.dsn-file", `"store.dsn_file"`},
		{"tls.tls-key", `"tls.key"`},
		{"log.json", ""},
		{"data", `"data_dir"`},
	} {
		got := suggest(tt.typed)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("suggest(%q) = %q, want it to name %s", tt.typed, got, tt.want)
		}
	}
}

// FuzzMaskDSN checks that a connection string's password never shows in
// its masked form, in URL and key=value spelling: the masked form must not
// depend on the password at all, so two strings that differ only in it mask
// to the same text. (Looking for the password as a substring is a weaker
// oracle: it also matches the user or host once they are percent-encoded.)
func FuzzMaskDSN(f *testing.F) {
	f.Add("psgate", "s3cret-pw", "db.example.com")
	f.Add("a b", "p@ss:w/rd?", "[::1]:5432")
	f.Add("\x00000000", "0000000", "1")
	f.Fuzz(func(t *testing.T, user, pass, host string) {
		if pass == "" {
			return
		}
		const other = "another-password"
		urlDSN := func(pw string) string {
			u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pw), Host: host, Path: "/psgate"}
			return u.String()
		}
		dsn := urlDSN(pass)
		if parsed, err := url.Parse(dsn); err == nil {
			if p, _ := parsed.User.Password(); p == pass {
				if got, want := MaskDSN(dsn), MaskDSN(urlDSN(other)); got != want {
					t.Fatalf("MaskDSN(%q) = %q, but with another password %q: the password shows", dsn, got, want)
				}
			}
		}
		if strings.ContainsAny(pass, " '\\\t\n\r\v\f") {
			return
		}
		kv := func(pw string) string { return "host=db password=" + pw + " user=psgate" }
		if got, want := MaskDSN(kv(pass)), MaskDSN(kv(other)); got != want || !dsnHasPassword(kv(pass)) {
			t.Fatalf("MaskDSN(%q) = %q, with another password %q", kv(pass), got, want)
		}
	})
}
