package engine

import (
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

func TestCompare(t *testing.T) {
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		left  any
		op    string
		right any
		want  bool
	}{
		// Strings are case-insensitive by default.
		{"Sales", "-eq", "sales", true},
		{"Sales", "-ceq", "sales", false},
		{"Sales", "-ieq", "SALES", true},
		{"Sales", "-ne", "sales", false},
		{"Sales", "-cne", "sales", true},
		{"a", "-lt", "B", true},
		{"b", "-gt", "A", true},
		{"a", "-clt", "A", true},
		{"abc", "-ge", "ABC", true},
		// The right operand takes the left operand's type.
		{int32(5), "-eq", "5", true},
		{int32(5), "-eq", " 5 ", true},
		{int32(5), "-eq", "abc", false},
		{int32(5), "-ne", "abc", true},
		{"5", "-eq", 5.0, true},
		{"5.0", "-eq", 5, false},
		{int32(1), "-eq", 1.0, true},
		{int32(1), "-eq", 1.5, false},
		{int32(2), "-gt", 1.5, true},
		{int64(10), "-gt", "9", true},
		{int32(16), "-eq", "0x10", true},
		{1.5, "-lt", "2", true},
		{int32(1), "-eq", true, true},
		{true, "-eq", "False", true}, // any non-empty string is $true
		{true, "-eq", "", false},
		{false, "-eq", int32(0), true},
		{false, "-lt", true, true},
		// $null.
		{nil, "-eq", nil, true},
		{nil, "-eq", "", false},
		{"", "-eq", nil, false},
		{int32(0), "-eq", nil, false},
		{nil, "-lt", int32(0), true},
		{"a", "-gt", nil, true},
		{nil, "-ne", "x", true},
		// Wildcards.
		{"alice@contoso.test", "-like", "*@contoso.test", true},
		{"alice@contoso.test", "-like", "A*", true},
		{"alice@contoso.test", "-clike", "A*", false},
		{"alice", "-like", "al?ce", true},
		{"alice", "-like", "al?e", false},
		{"bob", "-like", "[a-c]ob", true},
		{"Bob", "-like", "[a-c]ob", true},
		{"Bob", "-clike", "[a-c]ob", false},
		{"dob", "-like", "[a-c]ob", false},
		{"a*b", "-like", "a`*b", true},
		{"axb", "-like", "a`*b", false},
		{"alice", "-notlike", "b*", true},
		{"", "-like", "*", true},
		{"abc", "-like", "", false},
		{int32(123), "-like", "1*", true},
		// Regular expressions.
		{"Alice Smith", "-match", "^alice", true},
		{"Alice Smith", "-cmatch", "^alice", false},
		{"Alice Smith", "-notmatch", "bob", true},
		{"555-1234", "-match", `\d{3}-\d{4}`, true},
		// Collections.
		{[]any{"a", "b"}, "-contains", "B", true},
		{[]any{"a", "b"}, "-ccontains", "B", false},
		{[]any{"a", "b"}, "-notcontains", "c", true},
		{[]string{"Sales", "HR"}, "-contains", "hr", true},
		{[]any{int32(1), int32(2)}, "-contains", "2", true},
		{"b", "-in", []any{"a", "b"}, true},
		{"B", "-cin", []any{"a", "b"}, false},
		{"c", "-notin", []any{"a", "b"}, true},
		{"a", "-in", "a", true},
		{"abc", "-contains", "b", false}, // not a substring test
		{[]any{"x", "y"}, "-eq", "y", true},
		{[]any{"x", "y"}, "-eq", "z", false},
		{[]any{int32(1), int32(5)}, "-gt", int32(3), true},
		{[]any{}, "-eq", nil, false},
		// Dates, time spans, enums, versions, GUIDs.
		{day, "-eq", "2026-03-04", true},
		{day, "-lt", "2026-03-05T10:00:00", true},
		{day, "-gt", "3/1/2026", true},
		{time.Hour, "-eq", "01:00:00", true},
		{time.Hour, "-lt", "1.00:00:00", true},
		{psobject.Enum{Type: "T", Name: "Enabled", Value: 1}, "-eq", "enabled", true},
		{psobject.Enum{Type: "T", Name: "Enabled", Value: 1}, "-eq", int32(1), true},
		{psobject.Enum{Type: "T", Name: "Enabled", Value: 1}, "-gt", int32(0), true},
		{psobject.Version("10.0.2"), "-gt", "9.5", true},
		{psobject.Version("1.2"), "-lt", "1.2.0", true},
		{psobject.GUID("0f8fad5b-d9cb-469f-a165-70867728950e"), "-eq", "0F8FAD5B-D9CB-469F-A165-70867728950E", true},
		{psobject.Char('a'), "-eq", "A", true},
		{psobject.Decimal("1.50"), "-eq", 1.5, true},
		{uint64(1 << 63), "-gt", int64(1), true},
	}
	for _, tt := range tests {
		got, err := Compare(tt.left, tt.op, tt.right)
		if err != nil {
			t.Errorf("Compare(%#v, %q, %#v): unexpected error %v", tt.left, tt.op, tt.right, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Compare(%#v, %q, %#v) = %v, want %v", tt.left, tt.op, tt.right, got, tt.want)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	tests := []struct {
		left  any
		op    string
		right any
		want  string
	}{
		{int32(5), "-gt", "abc", `Could not compare "5" to "abc". Error: "Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""`},
		{time.Time{}, "-lt", "not a date", `Could not compare "01/01/0001 00:00:00" to "not a date". Error: "Cannot convert value \"not a date\" to type \"System.DateTime\". Error: \"Input string was not in a correct format.\""`},
		{"x", "-match", "(", "The regular expression pattern ( is not valid."},
		{"x", "-like", "[a", "The specified wildcard character pattern is not valid: [a"},
		{"x", "-approx", "y", "Unknown comparison operator '-approx'. Use -eq, -ne, -gt, -ge, -lt, -le, -like, -notlike, -match, -notmatch, -contains, -notcontains, -in or -notin."},
	}
	for _, tt := range tests {
		_, err := Compare(tt.left, tt.op, tt.right)
		e, ok := psgate.AsError(err)
		if !ok {
			t.Errorf("Compare(%#v, %q, %#v): got error %v, want a *psgate.Error", tt.left, tt.op, tt.right, err)
			continue
		}
		if e.Code != psgate.CodeInvalidOperation || e.Message != tt.want {
			t.Errorf("Compare(%#v, %q, %#v): got %s %q, want %s %q", tt.left, tt.op, tt.right, e.Code, e.Message, psgate.CodeInvalidOperation, tt.want)
		}
	}
}

func TestWildcardNoBlowup(t *testing.T) {
	// Many stars against a long non-matching string must stay fast.
	w, err := CompileWildcard("*a*a*a*a*a*a*a*a*a*a*b", false)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]byte, 10000)
	for i := range s {
		s[i] = 'a'
	}
	start := time.Now()
	if w.Match(string(s)) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("match took %v", d)
	}
}
