package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

func sampleUsers() []*psobject.Object {
	mk := func(name, dept string, enabled bool, age int32, city any) *psobject.Object {
		return psobject.New([]string{"Psgate.OnlineUser", "System.Object"},
			psobject.P("DisplayName", name),
			psobject.P("Department", dept),
			psobject.P("Enabled", enabled),
			psobject.P("Age", age),
			psobject.P("City", city),
			psobject.P("Roles", []any{"User", dept + "Admin"}),
		)
	}
	return []*psobject.Object{
		mk("Alice Martin", "Sales", true, 34, "Paris"),
		mk("Bob O'Neil", "HR", false, 51, "Lyon"),
		mk("Carol King", "Sales", false, 28, nil),
		mk("Dan Brown", "IT", true, 45, "Paris"),
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   []string
	}{
		{"Department -eq 'Sales'", []string{"Alice Martin", "Carol King"}},
		{`Department -eq "sales"`, []string{"Alice Martin", "Carol King"}},
		{"Department -ceq 'sales'", nil},
		{"Department -ne 'Sales'", []string{"Bob O'Neil", "Dan Brown"}},
		{"Enabled -eq $true", []string{"Alice Martin", "Dan Brown"}},
		{"enabled -eq $FALSE", []string{"Bob O'Neil", "Carol King"}},
		{"Age -gt 40", []string{"Bob O'Neil", "Dan Brown"}},
		{"Age -ge 45 -and Enabled -eq $true", []string{"Dan Brown"}},
		{"Age -lt 30 -or City -eq 'Lyon'", []string{"Bob O'Neil", "Carol King"}},
		{"Department -eq 'Sales' -and (Enabled -eq $true -or Age -lt 30)", []string{"Alice Martin", "Carol King"}},
		// -and binds tighter than -or.
		{"Department -eq 'IT' -or Department -eq 'Sales' -and Enabled -eq $true", []string{"Alice Martin", "Dan Brown"}},
		{"City -eq $null", []string{"Carol King"}},
		{"City -ne $null", []string{"Alice Martin", "Bob O'Neil", "Dan Brown"}},
		{"DisplayName -like '*o*'", []string{"Bob O'Neil", "Carol King", "Dan Brown"}},
		{"DisplayName -eq 'Bob O''Neil'", []string{"Bob O'Neil"}},
		{"DisplayName -match '^[ab]'", []string{"Alice Martin", "Bob O'Neil"}},
		{"Roles -contains 'HRAdmin'", []string{"Bob O'Neil"}},
		{"NoSuchProperty -eq $null", []string{"Alice Martin", "Bob O'Neil", "Carol King", "Dan Brown"}},
		{"Age -eq 0x22", []string{"Alice Martin"}},
		{"  ( ( Age -eq 28 ) )  ", []string{"Carol King"}},
		{"Age \u2013eq 28", []string{"Carol King"}},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		var got []string
		for _, u := range sampleUsers() {
			ok, err := f.Match(u)
			if err != nil {
				t.Errorf("Match(%q): %v", tt.filter, err)
			}
			if ok {
				name, _ := u.Get("DisplayName")
				got = append(got, name.(string))
			}
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("filter %q (-got +want):\n%s", tt.filter, diff)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		filter string
		code   psgate.Code
		msg    string
	}{
		{"", psgate.CodeInvalidFilter, `The filter "" is not valid: the filter is empty (at char 1).`},
		{"Department -eq Sales", psgate.CodeInvalidFilter, `The filter "Department -eq Sales" is not valid: the value 'Sales' must be quoted, for example 'Sales' (at char 16).`},
		{"Department 'Sales'", psgate.CodeInvalidFilter, `The filter "Department 'Sales'" is not valid: expected a comparison operator such as -eq after 'Department' but found value 'Sales' (at char 12).`},
		{"Department -equals 'x'", psgate.CodeInvalidFilter, `The filter "Department -equals 'x'" is not valid: '-equals' is not a comparison operator; use -eq, -ne, -gt, -ge, -lt, -le, -like, -notlike, -match, -notmatch, -contains, -notcontains, -in or -notin (at char 12).`},
		{"(Age -gt 1", psgate.CodeInvalidFilter, `The filter "(Age -gt 1" is not valid: missing ')'; found end of the filter (at char 11).`},
		{"Age -gt 1 -and", psgate.CodeInvalidFilter, `The filter "Age -gt 1 -and" is not valid: expected a property name or '(' but found end of the filter (at char 15).`},
		{"Age -gt 1 Age", psgate.CodeInvalidFilter, `The filter "Age -gt 1 Age" is not valid: unexpected 'Age'; expected -and, -or or the end of the filter (at char 11).`},
		{"Name -eq 'abc", psgate.CodeInvalidFilter, `The filter "Name -eq 'abc" is not valid: The string is missing the terminator: ' (at char 10).`},
		{"Department -in 'HR','IT'", psgate.CodeInvalidFilter, `The filter "Department -in 'HR','IT'" is not valid: unexpected ','; expected -and, -or or the end of the filter (at char 20).`},
		{"Name -match '('", psgate.CodeInvalidFilter, `The filter "Name -match '('" is not valid: the regular expression '(' is not valid (at char 13).`},
		{"Name -eq $x", psgate.CodeLanguageNotAllowed, ""},
		{`Name -eq "$x"`, psgate.CodeLanguageNotAllowed, ""},
		{"{ Name -eq 'a' }", psgate.CodeInvalidFilter, `The filter "{ Name -eq 'a' }" is not valid: the character '{' is not allowed; a filter holds only Property -operator value comparisons (at char 1).`},
		{"$_.Name -eq 'a'", psgate.CodeLanguageNotAllowed, ""},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.filter)
		e, ok := psgate.AsError(err)
		if !ok {
			t.Errorf("ParseFilter(%q): got %v, want a %s error", tt.filter, err, tt.code)
			continue
		}
		if e.Code != tt.code || tt.msg != "" && e.Message != tt.msg {
			t.Errorf("ParseFilter(%q):\n got %s %s\nwant %s %s", tt.filter, e.Code, e.Message, tt.code, tt.msg)
		}
	}
}

func TestFilterStringAndProperties(t *testing.T) {
	f, err := ParseFilter(`(Department -eq "O'Brien" -or Age -GT 1.5) -and enabled -eq $true -and department -like 'x*'`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), `(Department -eq 'O''Brien' -or Age -gt 1.5) -and enabled -eq $true -and department -like 'x*'`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if diff := cmp.Diff(f.Properties(), []string{"Department", "Age", "enabled"}); diff != "" {
		t.Errorf("Properties() (-got +want):\n%s", diff)
	}
	// The canonical form parses back to itself.
	g, err := ParseFilter(f.String())
	if err != nil || g.String() != f.String() {
		t.Errorf("round trip: %v, %v", g, err)
	}
}

func TestFilterMatchError(t *testing.T) {
	f, err := ParseFilter("Age -gt 'old'")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Match(sampleUsers()[0])
	if psgate.CodeOf(err) != psgate.CodeInvalidOperation {
		t.Errorf("got %v, want %s", err, psgate.CodeInvalidOperation)
	}
}

// FuzzFilterMatch checks what the runtime makes of any filter: a catalog
// error, or a Filter that matches objects without panicking and whose
// canonical form parses back to itself. (FuzzParseFilter, in package
// syntax, fuzzes the parser alone.)
func FuzzFilterMatch(f *testing.F) {
	for _, s := range []string{
		"Department -eq 'Sales'",
		"Age -gt 40 -and (Enabled -eq $true -or City -like \"P*\")",
		"Name -match '^a' -or Name -notin 'x'",
		"Age -gt 'old'",
		"(",
		"Department -eq Sales",
		"Name -eq $x",
	} {
		f.Add(s)
	}
	users := sampleUsers()
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := ParseFilter(text)
		if err != nil {
			if _, ok := psgate.AsError(err); !ok {
				t.Fatalf("ParseFilter(%q): %v is not a catalog error", text, err)
			}
			return
		}
		for _, u := range users {
			if _, err := flt.Match(u); err != nil {
				if _, ok := psgate.AsError(err); !ok {
					t.Fatalf("Match(%q): %v is not a catalog error", text, err)
				}
			}
		}
		again, err := ParseFilter(flt.String())
		if err != nil || again.String() != flt.String() {
			t.Fatalf("round trip of %q: %q -> %v %v", text, flt.String(), again, err)
		}
	})
}
