package builtin

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/enginetest"

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

// fakeEnv is a catalog with built-ins and a few fake tenant cmdlets.
type fakeEnv struct {
	catalog *engine.Catalog
	enginetest.Fakes
}

func newFakeEnv(t testing.TB) *fakeEnv {
	t.Helper()
	env := &fakeEnv{catalog: engine.NewCatalog()}
	if err := Register(env.catalog); err != nil {
		t.Fatal(err)
	}
	if err := env.catalog.Register(env.Commands()...); err != nil {
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
