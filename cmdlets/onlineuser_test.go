package cmdlets

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// upns lists the UserPrincipalName of each object written.
func upns(t *testing.T, out []any) []string {
	t.Helper()
	var got []string
	for _, o := range out {
		obj, ok := o.(*psobject.Object)
		if !ok || !obj.IsA(TypeOnlineUser) {
			t.Fatalf("wrote %#v, want a %s", o, TypeOnlineUser)
		}
		v, _ := obj.Get("UserPrincipalName")
		got = append(got, v.(string))
	}
	return got
}

func TestGetCsOnlineUser(t *testing.T) {
	tests := []struct {
		name   string
		caller engine.Caller
		params map[string]any
		want   []string
	}{
		{
			name:   "all users of the caller's tenant",
			caller: contoso,
			want:   []string{"adele.vance@contoso.test", "alex.wilber@contoso.test", "megan.bowen@contoso.test", "megan.bowen2@contoso.test"},
		},
		{
			name:   "the other tenant sees only its own",
			caller: fabrikam,
			want:   []string{"alan.steiner@fabrikam.test", "megan.bowen@fabrikam.test"},
		},
		{name: "identity by UPN, any case", caller: contoso, params: map[string]any{"Identity": "Adele.Vance@Contoso.TEST"}, want: []string{"adele.vance@contoso.test"}},
		{name: "identity by SIP address", caller: contoso, params: map[string]any{"Identity": "sip:adele.vance@contoso.test"}, want: []string{"adele.vance@contoso.test"}},
		{name: "identity by SIP address stored without sip:", caller: contoso, params: map[string]any{"Identity": "sip:alex.wilber@contoso.test"}, want: []string{"alex.wilber@contoso.test"}},
		{name: "identity by object id", caller: contoso, params: map[string]any{"Identity": "00000000-0000-4000-8000-000000000003"}, want: []string{"alex.wilber@contoso.test"}},
		{name: "identity by display name", caller: contoso, params: map[string]any{"Identity": "alex wilber"}, want: []string{"alex.wilber@contoso.test"}},
		{
			name: "display name shared by two users of the tenant", caller: contoso,
			params: map[string]any{"Identity": "Megan Bowen"},
			want:   []string{"megan.bowen@contoso.test", "megan.bowen2@contoso.test"},
		},
		{name: "shared display name in the other tenant", caller: fabrikam, params: map[string]any{"Identity": "Megan Bowen"}, want: []string{"megan.bowen@fabrikam.test"}},
		{
			name: "filter", caller: contoso,
			params: map[string]any{"Filter": "Department -eq 'Sales'"},
			want:   []string{"adele.vance@contoso.test", "megan.bowen@contoso.test"},
		},
		{
			name: "filter with -and, -or and parentheses", caller: contoso,
			params: map[string]any{"Filter": "Enabled -eq $true -and (Department -eq 'Legal' -or EnterpriseVoiceEnabled -eq $true)"},
			want:   []string{"adele.vance@contoso.test", "megan.bowen2@contoso.test"},
		},
		{name: "filter matching nothing", caller: contoso, params: map[string]any{"Filter": "Title -like 'CEO*'"}},
		{name: "filter on the other tenant", caller: fabrikam, params: map[string]any{"Filter": "Department -eq 'Sales'"}, want: []string{"alan.steiner@fabrikam.test", "megan.bowen@fabrikam.test"}},
		{name: "result size", caller: contoso, params: map[string]any{"ResultSize": int32(2)}, want: []string{"adele.vance@contoso.test", "alex.wilber@contoso.test"}},
		{
			name: "result size counts filtered users", caller: contoso,
			params: map[string]any{"Filter": "Enabled -eq $true", "ResultSize": int32(2)},
			want:   []string{"adele.vance@contoso.test", "alex.wilber@contoso.test"},
		},
		{
			name: "identity and result size", caller: contoso,
			params: map[string]any{"Identity": "Megan Bowen", "ResultSize": int32(1)},
			want:   []string{"megan.bowen@contoso.test"},
		},
		{name: "identity and filter", caller: contoso, params: map[string]any{"Identity": "Megan Bowen", "Filter": "Enabled -eq $true"}, want: []string{"megan.bowen2@contoso.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, newFakeDir(), "Get-CsOnlineUser", tt.caller, tt.params)
			if err != nil {
				t.Fatalf("Get-CsOnlineUser: %v", err)
			}
			if len(s.errs) != 0 {
				t.Errorf("wrote error %q", s.errs[0].Message())
			}
			if diff := cmp.Diff(tt.want, upns(t, s.out)); diff != "" {
				t.Errorf("users mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetCsOnlineUserObject(t *testing.T) {
	s, err := run(t, newFakeDir(), "Get-CsOnlineUser", contoso, map[string]any{"Identity": "adele.vance@contoso.test"})
	if err != nil || len(s.out) != 1 {
		t.Fatalf("Get-CsOnlineUser: %d objects, error %v", len(s.out), err)
	}
	o := s.out[0].(*psobject.Object)
	want := &psobject.Object{
		TypeNames: []string{"Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"},
		Props: []psobject.Property{
			{Name: "Identity", Value: "00000000-0000-4000-8000-000000000001"},
			{Name: "UserPrincipalName", Value: "adele.vance@contoso.test"},
			{Name: "DisplayName", Value: "Adele Vance"},
			{Name: "SipAddress", Value: "sip:adele.vance@contoso.test"},
			{Name: "Enabled", Value: true},
			{Name: "Department", Value: "Sales"},
			{Name: "Title", Value: "Engineer"},
			{Name: "UsageLocation", Value: "US"},
			{Name: "LineURI", Value: "tel:+14255550100"},
			{Name: "EnterpriseVoiceEnabled", Value: true},
			{Name: "WhenCreated", Value: t0},
			{Name: "WhenChanged", Value: t1},
		},
		Text:         "adele.vance@contoso.test",
		DisplayProps: []string{"DisplayName", "UserPrincipalName", "SipAddress", "Enabled"},
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("object mismatch (-want +got):\n%s", diff)
	}
}

func TestGetCsOnlineUserDefaultView(t *testing.T) {
	s, err := run(t, newFakeDir(), "Get-CsOnlineUser", contoso, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := format.Default(s.out, format.Options{Newline: "\n"})
	want := `
DisplayName UserPrincipalName         SipAddress                   Enabled
----------- -----------------         ----------                   -------
Adele Vance adele.vance@contoso.test  sip:adele.vance@contoso.test    True
Alex Wilber alex.wilber@contoso.test  sip:alex.wilber@contoso.test    True
Megan Bowen megan.bowen@contoso.test                                 False
Megan Bowen megan.bowen2@contoso.test                                 True


`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default view mismatch (-want +got):\n%s\ngot:\n%s", diff, got)
	}
}

func TestGetCsOnlineUserNotFound(t *testing.T) {
	tests := []struct {
		name     string
		caller   engine.Caller
		identity string
	}{
		{name: "unknown user", caller: contoso, identity: "nobody@contoso.test"},
		{name: "user of another tenant by UPN", caller: contoso, identity: "alan.steiner@fabrikam.test"},
		{name: "user of another tenant by object id", caller: fabrikam, identity: "00000000-0000-4000-8000-000000000001"},
		{name: "user of another tenant by display name", caller: fabrikam, identity: "Adele Vance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, newFakeDir(), "Get-CsOnlineUser", tt.caller, map[string]any{"Identity": tt.identity})
			if err != nil {
				t.Fatalf("not found must not stop the pipeline, got %v", err)
			}
			if len(s.out) != 0 {
				t.Errorf("wrote %v, want nothing", upns(t, s.out))
			}
			if len(s.errs) != 1 {
				t.Fatalf("wrote %d errors, want 1", len(s.errs))
			}
			rec := s.errs[0]
			got := struct {
				Code     psgate.Code
				Message  string
				FQID     string
				Category string
				Target   any
			}{rec.Err.Code, rec.Message(), rec.FullyQualifiedErrorID, rec.Category.String(), rec.Target}
			want := got
			want.Code = psgate.CodeObjectNotFound
			want.Message = "Cannot find an object with identity '" + tt.identity + "' in tenant '" + tt.caller.Tenant + "'."
			want.FQID = "ObjectNotFound,Get-CsOnlineUser"
			want.Category = "ObjectNotFound"
			want.Target = tt.identity
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error record mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetCsOnlineUserBadFilter(t *testing.T) {
	tests := []struct {
		name     string
		filter   string
		wantCode psgate.Code
		wantMsg  string
	}{
		{
			name:     "syntax error",
			filter:   "Department -eq",
			wantCode: psgate.CodeInvalidFilter,
		},
		{
			name:     "script syntax",
			filter:   "$x -eq 1",
			wantCode: psgate.CodeLanguageNotAllowed,
		},
		{
			name:     "comparison that cannot be made",
			filter:   "WhenCreated -gt 'abc'",
			wantCode: psgate.CodeInvalidOperation,
		},
		{
			name:     "unknown property",
			filter:   "Enabled -eq $true -and Deparment -eq 'Sales'",
			wantCode: psgate.CodeInvalidFilter,
			wantMsg: "The filter \"Enabled -eq $true -and Deparment -eq 'Sales'\" is not valid: 'Deparment' is not a property of online users; " +
				"use one of Identity, UserPrincipalName, DisplayName, SipAddress, Enabled, Department, Title, UsageLocation, " +
				"LineURI, EnterpriseVoiceEnabled, WhenCreated, WhenChanged (at char 24).",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := run(t, newFakeDir(), "Get-CsOnlineUser", contoso, map[string]any{"Filter": tt.filter})
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
			if got := te.Record.FullyQualifiedErrorID; got != "InvalidFilter,Get-CsOnlineUser" {
				t.Errorf("FullyQualifiedErrorID = %q", got)
			}
			if tt.wantMsg != "" && te.Record.Message() != tt.wantMsg {
				t.Errorf("message = %q\nwant      %q", te.Record.Message(), tt.wantMsg)
			}
		})
	}
}

func TestGetCsOnlineUserPaging(t *testing.T) {
	dir := newFakeDir()
	dir.addUsers(2*userPageSize + 3)
	s, err := run(t, dir, "Get-CsOnlineUser", contoso, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := upns(t, s.out)
	if want := 4 + 2*userPageSize + 3; len(got) != want {
		t.Fatalf("got %d users, want %d", len(got), want)
	}
	if got[len(got)-1] != "user1003@contoso.test" {
		t.Errorf("last user = %s, want user1003@contoso.test", got[len(got)-1])
	}

	// -ResultSize stops reading the directory once it has enough.
	dir.listCalls = 0
	s, err = run(t, dir, "Get-CsOnlineUser", contoso, map[string]any{"ResultSize": int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.out) != 10 || dir.listCalls != 1 {
		t.Errorf("ResultSize 10: %d users in %d directory reads, want 10 in 1", len(s.out), dir.listCalls)
	}
}

func TestGetCsOnlineUserNeverLeaksOtherTenants(t *testing.T) {
	// A directory that ignores the tenant: the cmdlet must still show only
	// the caller's users.
	dir := newFakeDir()
	dir.leaky = true
	for _, params := range []map[string]any{nil, {"Identity": "Megan Bowen"}, {"Filter": "Department -eq 'Sales'"}} {
		s, err := run(t, dir, "Get-CsOnlineUser", fabrikam, params)
		if err != nil {
			t.Fatal(err)
		}
		for _, upn := range upns(t, s.out) {
			if upn != "alan.steiner@fabrikam.test" && upn != "megan.bowen@fabrikam.test" {
				t.Errorf("params %v: fabrikam was shown %s", params, upn)
			}
		}
	}
}

func TestGetCsOnlineUserCancelled(t *testing.T) {
	dir := newFakeDir()
	dir.addUsers(3 * userPageSize)
	cmd := getCsOnlineUser(dir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &sink{}
	err := cmd.Run(ctx, &engine.Invocation{Command: cmd, Params: map[string]any{}, Caller: contoso, Out: s})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
