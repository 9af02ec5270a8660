package clixml

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendEscaped(t *testing.T) {
	tests := []struct {
		name string
		in   string
		attr bool
		want string
	}{
		{"plain", "Get-CsOnlineUser", false, "Get-CsOnlineUser"},
		{"empty", "", false, ""},
		{"crlf", "a\r\nb", false, "a_x000D__x000A_b"},
		{"tab and nul", "\t\x00", false, "_x0009__x0000_"},
		{"xml specials", `<a & "b">`, false, `&lt;a &amp; "b"&gt;`},
		{"quote in attribute", `a"b`, true, "a&quot;b"},
		{"literal _x", "_x000A_", false, "_x005F_x000A_"},
		{"literal _X", "a_X", false, "a_x005F_X"},
		{"underscore alone", "snake_case_", false, "snake_case_"},
		{"DEL and C1", "\x7f\u0085\u009f", false, "_x007F__x0085__x009F_"},
		{"latin and cjk kept", "é漢", false, "é漢"},
		{"emoji as surrogates", "😀", false, "_xD83D__xDE00_"},
		{"noncharacters", "\uFFFE\uFFFF", false, "_xFFFE__xFFFF_"},
		{"invalid utf-8", "a\xffb", false, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendEscaped(nil, tt.in, tt.attr))
			if got != tt.want {
				t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"_x000D__x000A_", "\r\n"},
		{"_x000d__x000a_", "\r\n"},
		{"_X000A_", "\n"},
		{"_x005F_x000A_", "_x000A_"},
		{"_xD83D__xDE00_", "😀"},
		{"_xd83d__xde00_", "😀"},
		{"_x0001F600_", "😀"},
		{"_xD83D_", "\uFFFD"},
		{"_xDE00_x", "\uFFFDx"},
		{"_xD83D_a", "\uFFFDa"},
		{"_x12_", "_x12_"},
		{"_xZZZZ_", "_xZZZZ_"},
		{"__x0041_", "_A"},
		{"a_", "a_"},
		{"_x0041", "_x0041"},
		{"_x110000__", "_x110000__"},
	}
	for _, tt := range tests {
		if got := decodeString(tt.in); got != tt.want {
			t.Errorf("decodeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// interestingRunes are the characters most likely to break escaping.
var interestingRunes = []rune{
	'_', 'x', 'X', '0', '5', 'F', 'f', 'D', 'a', ' ', '<', '>', '&', '"', '\'',
	0, '\t', '\n', '\r', 0x1F, 0x7F, 0x80, 0x9F, 0xA0, 0xFFFD, 0xFFFE, 0xFFFF,
	0x2028, 'é', '漢', 0x1F600, 0x10FFFF, 0x10000,
}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(24); n > 0; n-- {
		b.WriteRune(interestingRunes[r.IntN(len(interestingRunes))])
	}
	return b.String()
}

// TestStringRoundTrip checks that any valid string survives escaping and
// XML parsing unchanged, as element text, as a property name and as
// ToString text.
func TestStringRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		s := randomString(r)
		if !utf8.ValidString(s) {
			t.Fatalf("generator made invalid UTF-8 %q", s)
		}
		data, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(data, Limits{})
		if err != nil {
			t.Fatalf("Unmarshal(%q): %v", data, err)
		}
		if got != s {
			t.Fatalf("string %q came back as %q via %q", s, got, data)
		}
		if s == "" {
			continue
		}
		obj := psobjectWithName(s)
		data, err = Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(data, Limits{})
		if err != nil {
			t.Fatalf("Unmarshal(%q): %v", data, err)
		}
		o := asObject(t, back)
		if o.Extended[0].Name != s || o.Text != s || o.TypeNames[0] != s {
			t.Fatalf("name %q came back as %q / %q / %q", s, o.Extended[0].Name, o.Text, o.TypeNames[0])
		}
	}
}
