package syntax

import "testing"

func TestParseNumberLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"42", int32(42)},
		{"-7", int32(-7)},
		{"+7", int32(7)},
		{"2147483648", int64(2147483648)},
		{"9223372036854775808", 9223372036854775808.0},
		{"1.5", 1.5},
		{".5", 0.5},
		{"1e3", 1000.0},
		{"1E-2", 0.01},
		{"0x1F", int32(31)},
		{"0xFFFFFFFF", int32(-1)},
		{"0x100000000", int64(1 << 32)},
		{"0xd", int32(13)},
		{"10kb", int32(10240)},
		{"1MB", int32(1 << 20)},
		{"4gb", int64(4 << 30)},
		{"1.5kb", 1536.0},
		{"5l", int64(5)},
		{"0x10L", int64(16)},
		{"1.50d", Decimal("1.50")},
	}
	for _, tt := range tests {
		got, ok := parseNumberLiteral(tt.in)
		if !ok || got != tt.want {
			t.Errorf("parseNumberLiteral(%q) = %#v, %v; want %#v", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"", "-", "abc", "1.2.3", "12abc", "0x", "0xZZ", "1e", "kb", "1.5l", "10.0.0.1", "1_000", "Infinity", "NaN"} {
		if got, ok := parseNumberLiteral(in); ok {
			t.Errorf("parseNumberLiteral(%q) = %#v, want not a number", in, got)
		}
	}
}
