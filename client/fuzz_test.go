package client

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzSubjectOf feeds SubjectOf arbitrary tokens: it must never panic, and
// a subject it finds must come from a three-part token.
func FuzzSubjectOf(f *testing.F) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin@contoso.test","tid":1}`))
	f.Add("eyJhbGciOiJFUzI1NiJ9." + payload + ".c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if sub := SubjectOf(tok); sub != "" && strings.Count(tok, ".") != 2 {
			t.Errorf("SubjectOf(%q) = %q from a token that is not three parts", tok, sub)
		}
	})
}
