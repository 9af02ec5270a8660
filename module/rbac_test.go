package module

import (
	"fmt"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/store"
)

// TestRolesNameModuleCmdlets checks that RBAC roles constrain module
// cmdlets, their parameters and values as they do built-in ones, and
// that Get-Command and Get-Help show them.
func TestRolesNameModuleCmdlets(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	m := exampleModule(t, be.url, nil)
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(cat, []*Module{m}, Config{Tokens: ts.tokens}); err != nil {
		t.Fatal(err)
	}
	reader := store.Role{Name: "Widget Reader", Entries: []store.RoleEntry{
		{Cmdlet: "Get-Widget", Parameters: []string{"Id", "Color"}, AllowedValues: map[string][]string{"Color": {"Red"}}},
	}}
	caller := adele
	caller.Roles = []string{"Widget Reader"}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller, Authorizer: rbac.NewAuthorizer([]store.Role{reader}, caller.TenantID, nil)})
	run := func(line string) (*sink, error) {
		s := &sink{}
		return s, rs.RunScript(t.Context(), line, nil, s)
	}
	if _, err := run(`Get-Widget -Color Red`); err != nil {
		t.Errorf("allowed call: %v", err)
	}
	if calls := be.takeCalls(); len(calls) != 1 || fmt.Sprint(calls[0].Caller.Roles) != "[Widget Reader]" {
		t.Errorf("backend calls = %+v", calls)
	}
	for line, code := range map[string]psgate.Code{
		`Get-Widget -Color Blue`:    psgate.CodeValueDenied,
		`Get-Widget -MinSize 3`:     psgate.CodeParameterDenied,
		`Set-Widget w-1 -Size 3`:    psgate.CodeCommandNotFound,
		`Remove-Widget w-1 -WhatIf`: psgate.CodeCommandNotFound,
	} {
		if _, err := run(line); psgate.CodeOf(err) != code {
			t.Errorf("%s: %v, want %s", line, err, code)
		}
	}
	if calls := be.takeCalls(); len(calls) != 0 {
		t.Errorf("refused calls reached the backend: %+v", calls)
	}
	s, err := run(`Get-Command -Noun Widget`)
	if err != nil || len(s.out) != 1 {
		t.Fatalf("Get-Command -Noun Widget = %v, %v: want only Get-Widget", s.out, err)
	}
	s, err = run(`Get-Help Get-Widget -Full | Out-String`)
	if err != nil {
		t.Fatal(err)
	}
	help := fmt.Sprint(s.out...)
	for _, want := range []string{"Gets the widgets of your tenant.", "The widget's identity, such as w-1.", `Must match the pattern "^w-[0-9]+$".`, "Get-Widget -Color Red", "Contoso.Widget"} {
		if !strings.Contains(help, want) {
			t.Errorf("Get-Help -Full lacks %q:\n%s", want, help)
		}
	}
}
