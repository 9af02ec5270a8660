package cmdlets

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store"
)

func TestGetCsTenant(t *testing.T) {
	dir := newFakeDir()
	tests := []struct {
		name   string
		caller engine.Caller
		want   map[string]any
	}{
		{
			name:   "contoso sees contoso",
			caller: contoso,
			want: map[string]any{
				"Name": "contoso", "DisplayName": "Contoso Ltd.", "DomainName": "contoso.test",
				"Domains": []any{"contoso.test"}, "CreatedOn": t0,
				"RemotePowerShellEnabled": true, "MaxShellsPerUser": int32(3), "MaxShellsPerTenant": int32(20),
				"SessionLifetime": time.Hour, "IdleTimeout": 15 * time.Minute,
			},
		},
		{
			name:   "fabrikam sees fabrikam",
			caller: fabrikam,
			want: map[string]any{
				"Name": "fabrikam", "DisplayName": "Fabrikam, Inc.", "DomainName": "fabrikam.test",
				"Domains": []any{"fabrikam.test"}, "CreatedOn": t1,
				"RemotePowerShellEnabled": false, "MaxShellsPerUser": int32(1), "MaxShellsPerTenant": int32(5),
				"SessionLifetime": 30 * time.Minute, "IdleTimeout": 5 * time.Minute,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, dir, "Get-CsTenant", tt.caller, nil)
			if err != nil {
				t.Fatalf("Get-CsTenant: %v", err)
			}
			if len(s.out) != 1 || len(s.errs) != 0 {
				t.Fatalf("Get-CsTenant wrote %d objects and %d errors, want 1 and 0", len(s.out), len(s.errs))
			}
			o := s.out[0].(*psobject.Object)
			if diff := cmp.Diff([]string{"Psgate.Tenant", "Psgate.DirectoryObject", "System.Object"}, o.TypeNames); diff != "" {
				t.Errorf("TypeNames mismatch (-want +got):\n%s", diff)
			}
			got := map[string]any{}
			for name := range tt.want {
				got[name], _ = o.Get(name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("properties mismatch (-want +got):\n%s", diff)
			}
			id, _ := o.Get("TenantId")
			if identity, _ := o.Get("Identity"); id != TenantGUID(dir.tenants[tt.caller.TenantID]) || identity != string(id.(psobject.GUID)) {
				t.Errorf("TenantId = %v, Identity = %v, want both %v", id, identity, TenantGUID(dir.tenants[tt.caller.TenantID]))
			}
		})
	}
}

func TestGetCsTenantDefaultView(t *testing.T) {
	s, err := run(t, newFakeDir(), "Get-CsTenant", contoso, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := format.Default(s.out, format.Options{Newline: "\n"})
	want := `

DisplayName             : Contoso Ltd.
Name                    : contoso
TenantId                : ` + string(TenantGUID(newFakeDir().tenants[1])) + `
Domains                 : {contoso.test}
CreatedOn               : 3/14/2026 9:26:53 AM
RemotePowerShellEnabled : True
MaxShellsPerUser        : 3
MaxShellsPerTenant      : 20
SessionLifetime         : 01:00:00
IdleTimeout             : 00:15:00



`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default view mismatch (-want +got):\n%s\ngot:\n%s", diff, got)
	}
}

func TestGetCsTenantErrors(t *testing.T) {
	tests := []struct {
		name     string
		dir      *fakeDir
		caller   engine.Caller
		wantCode psgate.Code
		wantMsg  string
	}{
		{
			name:     "tenant deleted while the shell is open",
			dir:      newFakeDir(),
			caller:   engine.Caller{Principal: psgate.Principal{TenantID: 9, Tenant: "gone"}},
			wantCode: psgate.CodeTenantNotFound,
			wantMsg:  "The tenant 'gone' does not exist on this service.",
		},
		{
			name:     "directory answering for another tenant shows nothing",
			dir:      func() *fakeDir { d := newFakeDir(); d.leaky = true; return d }(),
			caller:   contoso,
			wantCode: psgate.CodeTenantNotFound,
			wantMsg:  "The tenant 'contoso' does not exist on this service.",
		},
		{
			name:     "store unavailable",
			dir:      &fakeDir{err: fmt.Errorf("sqlite: busy: %w", store.ErrUnavailable)},
			caller:   contoso,
			wantCode: psgate.CodeStoreDown,
			wantMsg:  "The psgate store is unavailable, so the request cannot be admitted.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, tt.dir, "Get-CsTenant", tt.caller, nil)
			if len(s.out) != 0 {
				t.Errorf("wrote %d objects, want none", len(s.out))
			}
			var te *engine.TerminatingError
			if !errors.As(err, &te) {
				t.Fatalf("error = %v, want a terminating error", err)
			}
			if got := te.Record.Err.Code; got != tt.wantCode {
				t.Errorf("code = %s, want %s", got, tt.wantCode)
			}
			if got := te.Record.Message(); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestGetCsTenantInternalErrorIsWrapped(t *testing.T) {
	cause := errors.New("disk on fire")
	_, err := run(t, &fakeDir{err: cause}, "Get-CsTenant", contoso, nil)
	if !errors.Is(err, cause) {
		t.Fatalf("error = %v, want it to wrap the cause", err)
	}
	if _, ok := psgate.AsError(err); ok {
		t.Errorf("error = %v: an internal failure must not carry a user-facing code", err)
	}
}
