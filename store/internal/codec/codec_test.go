package codec

import (
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/psgate/psgate/store"
)

func TestEntriesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []store.RoleEntry
		want string
	}{
		{"none", nil, `[]`},
		{"wildcard", []store.RoleEntry{{Cmdlet: "*"}}, `[{"cmdlet":"*"}]`},
		{
			"everything",
			[]store.RoleEntry{{Cmdlet: "Set-CsUser", Parameters: []string{"Identity"},
				AllowedValues: map[string][]string{"Identity": {"a@b.test"}}, Deny: true}},
			`[{"cmdlet":"Set-CsUser","parameters":["Identity"],"allowedValues":{"Identity":["a@b.test"]},"deny":true}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEntries(tt.in)
			if err != nil {
				t.Fatalf("EncodeEntries() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("EncodeEntries() = %s, want %s", got, tt.want)
			}
			back, err := DecodeEntries(got)
			if err != nil {
				t.Fatalf("DecodeEntries() error = %v", err)
			}
			if diff := cmp.Diff(back, tt.in, cmpEmpty); diff != "" {
				t.Errorf("round trip (-got +want):\n%s", diff)
			}
		})
	}
	if _, err := EncodeEntries([]store.RoleEntry{{Cmdlet: " "}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("EncodeEntries(blank cmdlet) error = %v, want ErrInvalid", err)
	}
}

// cmpEmpty treats nil and empty parameter lists alike: both allow every
// parameter.
var cmpEmpty = cmpopts.EquateEmpty()

func TestNewObjectID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewObjectID(), NewObjectID()
	if !re.MatchString(a) || a == b {
		t.Errorf("NewObjectID() = %q, %q; want two distinct lower-case version 4 UUIDs", a, b)
	}
}

func TestLikePattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", `%alice%`},
		{`100%_x\`, `%100\%\_x\\%`},
	}
	for _, tt := range tests {
		if got := LikePattern(tt.in); got != tt.want {
			t.Errorf("LikePattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzDecodeEntries checks that whatever a role row holds, decoding never
// panics and a decoded value survives re-encoding.
func FuzzDecodeEntries(f *testing.F) {
	f.Add(`[{"cmdlet":"*"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		es, err := DecodeEntries(s)
		if err != nil {
			return
		}
		enc, err := EncodeEntries(es)
		if err != nil {
			return // e.g. an entry without a cmdlet: refused on write
		}
		again, err := DecodeEntries(enc)
		if err != nil {
			t.Fatalf("DecodeEntries(EncodeEntries(%q)) error = %v", s, err)
		}
		if !cmp.Equal(again, es, cmpEmpty) {
			t.Errorf("re-decoded %v, want %v", again, es)
		}
	})
}
