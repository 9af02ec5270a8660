package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/engine"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// recorder is a Sink that keeps everything.
type recorder struct {
	out      []any
	errors   []*engine.ErrorRecord
	warnings []string
	verbose  []string
	debug    []string
	info     []engine.InformationRecord
	progress []engine.ProgressRecord
}

func (r *recorder) Output(obj any)                           { r.out = append(r.out, obj) }
func (r *recorder) Error(rec *engine.ErrorRecord)            { r.errors = append(r.errors, rec) }
func (r *recorder) Warning(msg string)                       { r.warnings = append(r.warnings, msg) }
func (r *recorder) Verbose(msg string)                       { r.verbose = append(r.verbose, msg) }
func (r *recorder) Debug(msg string)                         { r.debug = append(r.debug, msg) }
func (r *recorder) Information(rec engine.InformationRecord) { r.info = append(r.info, rec) }
func (r *recorder) Progress(rec engine.ProgressRecord)       { r.progress = append(r.progress, rec) }

// texts renders the output objects as strings.
func (r *recorder) texts() []string {
	out := make([]string, len(r.out))
	for i, o := range r.out {
		out[i] = psobject.Format(o)
	}
	return out
}

func (r *recorder) errorMessages() []string {
	var out []string
	for _, e := range r.errors {
		out = append(out, e.Message())
	}
	return out
}

// userObj is a fake directory user.
func userObj(upn, dept string, enabled bool, age int32) *psobject.Object {
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

func testUsers() []any {
	return []any{
		userObj("alice@contoso.test", "Sales", true, 34),
		userObj("bob@contoso.test", "HR", false, 51),
		userObj("carol@contoso.test", "Sales", false, 28),
		userObj("dan@contoso.test", "IT", true, 45),
	}
}

// fakeEnv is a catalog with built-ins and a few fake tenant cmdlets.
type fakeEnv struct {
	catalog  *engine.Catalog
	produced atomic.Int64 // objects written by Get-Numbers
	changes  []string     // what Set-CsUser changed
}

func newFakeEnv(t testing.TB) *fakeEnv {
	t.Helper()
	env := &fakeEnv{catalog: engine.NewCatalog()}
	if err := Register(env.catalog); err != nil {
		t.Fatal(err)
	}
	cmds := []*engine.Command{
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
				for _, u := range testUsers() {
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
					env.changes = append(env.changes, fmt.Sprintf("%s dept=%v enabled=%v", inv.String("Identity"), inv.Params["Department"], inv.Params["Enabled"]))
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
					env.produced.Add(1)
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
	if err := env.catalog.Register(cmds...); err != nil {
		t.Fatal(err)
	}
	return env
}

func (env *fakeEnv) runspace(cfg engine.RunspaceConfig) *engine.Runspace {
	cfg.Catalog = env.catalog
	if cfg.Caller.Tenant == "" {
		cfg.Caller = engine.Caller{Principal: psgate.Principal{Tenant: "contoso", UPN: "admin@contoso.test"}, ShellID: "shell-1"}
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Date(2026, 5, 17, 14, 30, 0, 0, time.UTC) }
	}
	return engine.NewRunspace(cfg)
}

// run runs a script and returns the recorder and error.
func (env *fakeEnv) run(t testing.TB, cfg engine.RunspaceConfig, script string) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	err := env.runspace(cfg).RunScript(context.Background(), script, nil, rec)
	return rec, err
}

// codeOf returns the catalog code of a terminating error.
func codeOf(err error) psgate.Code {
	if err == nil {
		return ""
	}
	return psgate.CodeOf(err)
}

// hideAuthorizer hides commands and denies parameters by name.
type hideAuthorizer struct {
	hidden map[string]bool
	denied map[string]bool // "Command -Parameter"
	calls  int
}

func (a *hideAuthorizer) Visible(cmd *engine.Command) bool { return !a.hidden[cmd.Name] }

func (a *hideAuthorizer) Authorize(ctx context.Context, cmd *engine.Command, inv *engine.Invocation) error {
	a.calls++
	for name := range inv.Params {
		if a.denied[cmd.Name+" -"+name] {
			return psgate.E(psgate.CodeParameterDenied, psgate.Args{"name": name, "command": cmd.Name, "allowed_by": ""})
		}
	}
	return nil
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})
