package cmdlets

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// runLine runs a command line in a real runspace whose catalog holds the
// package's cmdlets.
func runLine(t *testing.T, dir Directory, caller engine.Caller, line string, opts ...Option) (*sink, error) {
	t.Helper()
	cat := engine.NewCatalog()
	if err := Register(cat, dir, opts...); err != nil {
		t.Fatalf("Register: %v", err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller})
	s := &sink{}
	err := rs.RunScript(t.Context(), line, nil, s)
	return s, err
}

func TestRegister(t *testing.T) {
	cat := engine.NewCatalog()
	if err := Register(cat, newFakeDir()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	for _, name := range []string{"Get-CsTenant", "get-csonlineuser"} {
		if _, ok := cat.Lookup(name); !ok {
			t.Errorf("%s is not in the catalog", name)
		}
	}
	if err := Register(cat, newFakeDir()); err == nil {
		t.Error("registering the cmdlets twice succeeded")
	}
}

func TestRunspace(t *testing.T) {
	tests := []struct {
		name     string
		caller   engine.Caller
		line     string
		want     []string // UPNs written
		wantErrs []string // FullyQualifiedErrorID of records written
		wantCode psgate.Code
	}{
		{name: "positional identity", caller: contoso, line: "Get-CsOnlineUser 'Adele Vance'", want: []string{"adele.vance@contoso.test"}},
		{
			name: "filter and result size", caller: contoso,
			line: `Get-CsOnlineUser -Filter "Department -eq 'Sales'" -ResultSize 1`,
			want: []string{"adele.vance@contoso.test"},
		},
		{
			name: "other tenant", caller: fabrikam, line: "Get-CsOnlineUser -ResultSize 5",
			want: []string{"alan.steiner@fabrikam.test", "megan.bowen@fabrikam.test"},
		},
		{
			name: "not found is a non-terminating error", caller: fabrikam,
			line:     "Get-CsOnlineUser -Identity adele.vance@contoso.test",
			wantErrs: []string{"ObjectNotFound,Get-CsOnlineUser"},
		},
		{
			name: "not found with -ErrorAction Stop", caller: contoso,
			line:     "Get-CsOnlineUser -Identity nobody@contoso.test -ErrorAction Stop",
			wantCode: psgate.CodeObjectNotFound,
		},
		{name: "result size must be positive", caller: contoso, line: "Get-CsOnlineUser -ResultSize 0", wantCode: psgate.CodeParameterValidation},
		{name: "identity must not be empty", caller: contoso, line: "Get-CsOnlineUser -Identity ''", wantCode: psgate.CodeParameterValidation},
		{name: "invalid filter", caller: contoso, line: `Get-CsOnlineUser -Filter "Department -eq"`, wantCode: psgate.CodeInvalidFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := runLine(t, newFakeDir(), tt.caller, tt.line)
			if tt.wantCode != "" {
				var te *engine.TerminatingError
				if !errors.As(err, &te) || te.Record.Err.Code != tt.wantCode {
					t.Fatalf("error = %v, want a terminating error with code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("RunScript: %v", err)
			}
			if diff := cmp.Diff(tt.want, upns(t, s.out)); diff != "" {
				t.Errorf("users mismatch (-want +got):\n%s", diff)
			}
			var ids []string
			for _, r := range s.errs {
				ids = append(ids, r.FullyQualifiedErrorID)
			}
			if diff := cmp.Diff(tt.wantErrs, ids); diff != "" {
				t.Errorf("error records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunspaceGetCsTenant(t *testing.T) {
	s, err := runLine(t, newFakeDir(), fabrikam, "Get-CsTenant")
	if err != nil || len(s.out) != 1 {
		t.Fatalf("Get-CsTenant: %d objects, error %v", len(s.out), err)
	}
	if got := s.out[0].(*psobject.Object).String(); got != "fabrikam" {
		t.Errorf("Get-CsTenant wrote %s, want fabrikam", got)
	}
}
