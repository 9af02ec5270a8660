package engine_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
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
	if err := builtin.Register(env.catalog); err != nil {
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

// waitGoroutines waits until the goroutine count is back to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, want at most %d\n%s", runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
