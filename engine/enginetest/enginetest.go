// Package enginetest has the fake tenant cmdlets the engine's and the
// built-in commands' tests run against: a small directory of users and
// commands that write, fail, wait and stream in every way a pipeline must
// handle. It is for tests only.
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// UserObj is a fake directory user.
func UserObj(upn, dept string, enabled bool, age int32) *psobject.Object {
	o := psobject.New([]string{"Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"},
		psobject.P("Identity", upn),
		psobject.P("UserPrincipalName", upn),
		psobject.P("DisplayName", strings.Split(upn, "@")[0]),
		psobject.P("Department", dept),
		psobject.P("Enabled", enabled),
		psobject.P("Age", age),
	)
	o.Text = upn
	o.DisplayProps = []string{"UserPrincipalName", "DisplayName", "Department"}
	return o
}

// Users are four fake directory users of contoso.
func Users() []any {
	return []any{
		UserObj("alice@contoso.test", "Sales", true, 34),
		UserObj("bob@contoso.test", "HR", false, 51),
		UserObj("carol@contoso.test", "Sales", false, 28),
		UserObj("dan@contoso.test", "IT", true, 45),
	}
}

// Fakes records what the fake commands did.
type Fakes struct {
	// Produced counts the objects Get-Numbers wrote.
	Produced atomic.Int64
	// Changes lists what Set-CsUser changed.
	Changes []string
}

// Commands returns the fake tenant cmdlets, recording into f: Get-CsTenant,
// Get-CsOnlineUser (with -Filter and -ResultSize), Set-CsUser (with
// -WhatIf), Get-Numbers (an endless stream), Wait-Forever and Invoke-Fail.
func (f *Fakes) Commands() []*engine.Command {
	return []*engine.Command{
		{
			Name:     "Get-CsTenant",
			Synopsis: "Gets the tenant.",
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				inv.Write(psobject.New([]string{"Psgate.Tenant", "System.Object"},
					psobject.P("TenantId", psobject.GUID("0f8fad5b-d9cb-469f-a165-70867728950e")),
					psobject.P("DisplayName", inv.Caller.Tenant)))
				return nil
			},
		},
		{
			Name:     "Get-CsOnlineUser",
			Synopsis: "Gets users.",
			Parameters: []engine.Parameter{
				{Name: "Identity", Type: engine.TypeString, Position: 0, ValueFromPipeline: true, ValueFromPipelineByPropertyName: true, Help: "The user."},
				{Name: "Filter", Type: engine.TypeString, Position: engine.NotPositional},
				{Name: "ResultSize", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: &engine.Range{Min: 1, Max: 1000}},
			},
			OutputType: []string{"Psgate.OnlineUser"},
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				var f *engine.Filter
				if inv.Bound("Filter") {
					var err error
					if f, err = engine.ParseFilter(inv.String("Filter")); err != nil {
						return err
					}
				}
				n := 0
				for _, u := range Users() {
					o := u.(*psobject.Object)
					if inv.Bound("Identity") && !strings.EqualFold(o.Text, inv.String("Identity")) {
						continue
					}
					if f != nil {
						ok, err := f.Match(o)
						if err != nil {
							return err
						}
						if !ok {
							continue
						}
					}
					if size, ok := inv.Int("ResultSize"); ok && n >= int(size) {
						break
					}
					inv.Write(o)
					n++
				}
				if n == 0 && inv.Bound("Identity") {
					inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeObjectNotFound, psgate.Args{
						"identity": inv.String("Identity"), "tenant": inv.Caller.Tenant,
					}), "UserNotFound", engine.CategoryObjectNotFound, inv.String("Identity")))
				}
				return nil
			},
		},
		{
			Name:                  "Set-CsUser",
			SupportsShouldProcess: true,
			Parameters: []engine.Parameter{
				{Name: "Identity", Type: engine.TypeString, Position: 0, Mandatory: true, ValueFromPipelineByPropertyName: true, Aliases: []string{"UPN"}},
				{Name: "Department", Type: engine.TypeString, Position: engine.NotPositional},
				{Name: "Enabled", Type: engine.TypeBool, Position: engine.NotPositional},
			},
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				if inv.ShouldProcess(inv.String("Identity"), "Set-CsUser") {
					f.Changes = append(f.Changes, fmt.Sprintf("%s dept=%v enabled=%v", inv.String("Identity"), inv.Params["Department"], inv.Params["Enabled"]))
				}
				return nil
			},
		},
		{
			Name: "Get-Numbers",
			Parameters: []engine.Parameter{
				{Name: "Count", Type: engine.TypeInt, Position: 0},
			},
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				n, ok := inv.Int("Count")
				if !ok {
					n = 1 << 30
				}
				for i := int32(1); i <= n; i++ {
					if err := ctx.Err(); err != nil {
						return err
					}
					f.Produced.Add(1)
					inv.Write(i)
				}
				return nil
			},
		},
		{
			Name: "Wait-Forever",
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				<-ctx.Done()
				return ctx.Err()
			},
		},
		{
			Name: "Invoke-Fail",
			Parameters: []engine.Parameter{
				{Name: "Mode", Type: engine.TypeString, Position: 0, ValidateSet: []string{"Terminating", "NonTerminating", "Panic", "Plain", "Warning"}},
			},
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				switch inv.String("Mode") {
				case "Terminating":
					return psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "It broke."})
				case "NonTerminating":
					inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "First problem."}), "Problem", engine.CategoryInvalidOperation, nil))
					inv.Write("after first")
					inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "Second problem."}), "Problem", engine.CategoryInvalidOperation, nil))
					inv.Write("after second")
				case "Panic":
					panic("boom")
				case "Plain":
					return errors.New("database exploded")
				case "Warning":
					inv.WriteWarning("careful")
					inv.WriteVerbose("details")
					inv.WriteDebug("debugging")
					inv.Write("done")
				}
				return nil
			},
		},
	}
}
