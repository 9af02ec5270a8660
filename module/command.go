package module

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
)

// TokenIssuer mints the token that tells a backend who calls: the
// caller's tenant, user and roles, for the backend's audience only.
// *identity.Service is one.
type TokenIssuer interface {
	BackendToken(ctx context.Context, p psgate.Principal, roles []string, audience string) (string, error)
}

// Config is what the module cmdlets need to run.
type Config struct {
	// Tokens mints the backend tokens. Required.
	Tokens TokenIssuer
	// Logger receives backend failures; nil discards.
	Logger *slog.Logger
	// MaxRetryWait is the longest a retry waits, also for a Retry-After
	// the backend asks for (a longer one is reported instead of waited
	// for); zero means 10 seconds.
	MaxRetryWait time.Duration
	// Now is the clock of the circuit breakers; nil means time.Now.
	Now func() time.Time
}

// Registered is the set of module cmdlets a Register put in a catalog,
// which Reload replaces.
type Registered struct {
	cat *engine.Catalog
	cfg Config
	mu  sync.Mutex
	// cmds are the commands in the catalog now, mods their modules.
	cmds []*engine.Command
	mods []*Module
}

// Register adds the cmdlets of mods to c, next to the built-ins and the
// tenant cmdlets: Get-Command, Get-Help, tab completion, RBAC and the
// command audit treat them as any other command. A name already in the
// catalog is an *Error naming the file and line of the cmdlet.
func Register(c *engine.Catalog, mods []*Module, cfg Config) (*Registered, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("module: Config.Tokens is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 10 * time.Second
	}
	r := &Registered{cat: c, cfg: cfg}
	if err := r.Reload(mods); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload replaces the registered module cmdlets by those of mods in one
// step (SIGHUP): new cmdlets appear, removed ones disappear, changed ones
// take their new definition, in every open session at its next command.
// Commands running keep their old definition. On an error (a name taken
// by a built-in, a tenant cmdlet or two modules) nothing changes.
func (r *Registered) Reload(mods []*Module) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	mine := make(map[*engine.Command]bool, len(r.cmds))
	for _, cmd := range r.cmds {
		mine[cmd] = true
	}
	if err := conflicts(r.cat, mods, mine); err != nil {
		return err
	}
	var cmds []*engine.Command
	for _, m := range mods {
		clients := map[*Backend]*client{}
		for _, b := range m.Backends {
			clients[b] = newClient(b, m.Types, r.cfg)
		}
		for _, cl := range m.Cmdlets {
			cmds = append(cmds, cl.command(clients[cl.Backend]))
		}
	}
	if err := r.cat.Replace(r.cmds, cmds...); err != nil {
		return fmt.Errorf("module: %w", err)
	}
	r.cmds, r.mods = cmds, mods
	return nil
}

// Modules returns the modules whose cmdlets are registered now.
func (r *Registered) Modules() []*Module {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Module(nil), r.mods...)
}

// Conflicts reports, as an *Error naming the file and line, the cmdlets
// of mods whose name a command of c already has (a built-in, a tenant
// cmdlet, or a module registered before) or another of mods declares.
func Conflicts(c *engine.Catalog, mods []*Module) error {
	return conflicts(c, mods, nil)
}

// conflicts is Conflicts, the commands of ignore (the module cmdlets a
// reload replaces) not counting as taken.
func conflicts(c *engine.Catalog, mods []*Module, ignore map[*engine.Command]bool) error {
	var problems []Problem
	owner := map[string]*Module{}
	for _, m := range mods {
		for _, cl := range m.Cmdlets {
			key := strings.ToLower(cl.Name)
			if other, ok := c.Lookup(cl.Name); ok && !ignore[other] {
				problems = append(problems, m.problemAt(cl.off, cl.Name, fmt.Sprintf("the name %s is already taken by psgate's %s", cl.Name, other.Name)))
			} else if o, ok := owner[key]; ok && o != m {
				problems = append(problems, m.problemAt(cl.off, cl.Name, fmt.Sprintf("%s is also declared by %s", cl.Name, o.File)))
			}
			owner[key] = m
		}
	}
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

// command is the engine command of a declared cmdlet; cl is nil when only
// the metadata is checked.
func (c *Cmdlet) command(cl *client) *engine.Command {
	cmd := &engine.Command{
		Name:                  c.Name,
		Synopsis:              c.Synopsis,
		Description:           c.Description,
		Examples:              c.Examples,
		SupportsShouldProcess: c.ShouldProcess != nil,
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return cl.run(ctx, inv, c)
		},
	}
	if c.OutputType != "" {
		cmd.OutputType = []string{c.OutputType}
	}
	for _, p := range c.Parameters {
		cmd.Parameters = append(cmd.Parameters, engine.Parameter{
			Name:                            p.Name,
			Type:                            p.Type,
			Aliases:                         p.Aliases,
			Mandatory:                       p.Mandatory,
			Position:                        p.Position,
			ValueFromPipeline:               p.ValueFromPipeline,
			ValueFromPipelineByPropertyName: p.ValueFromPipelineByPropertyName,
			ValidateSet:                     p.ValidateSet,
			ValidateRange:                   p.ValidateRange,
			Sensitive:                       p.Sensitive,
			Help:                            p.paramHelp(),
		})
	}
	return cmd
}

// paramHelp adds the pattern to the help text, since the engine's
// metadata has no ValidatePattern of its own.
func (p *Param) paramHelp() string {
	if p.ValidatePattern == nil {
		return p.Help
	}
	pat := strings.TrimPrefix(p.ValidatePattern.String(), "(?i)")
	if p.Help == "" {
		return fmt.Sprintf("Must match the pattern %q.", pat)
	}
	return fmt.Sprintf("%s Must match the pattern %q.", p.Help, pat)
}

// run is one invocation: check, build the request, ask -WhatIf, call the
// backend and stream the results.
func (cl *client) run(ctx context.Context, inv *engine.Invocation, c *Cmdlet) error {
	if err := checkPatterns(inv, c); err != nil {
		return err
	}
	tmpl, ok := c.pickPath(inv)
	if !ok {
		// Load refuses a cmdlet whose mandatory parameters fill no path.
		return fmt.Errorf("module: %s: no path template is complete", c.Name)
	}
	path := tmpl.expand(func(name string) string { return pathValue(inv.Params[canonical(c, name)]) })
	if c.ShouldProcess != nil {
		target := path
		if len(c.ShouldProcess.Target.Text) > 0 {
			target = c.ShouldProcess.Target.expand(func(name string) string { return textOf(inv.Params[canonical(c, name)]) })
		}
		if !inv.ShouldProcess(target, c.ShouldProcess.Action) {
			return nil
		}
	}
	u := cl.base + path
	if q := c.query(inv); q != "" {
		u += "?" + q
	}
	var body []byte
	if len(c.Request.Body) > 0 {
		var err error
		if body, err = c.body(inv); err != nil {
			return fmt.Errorf("module: %s: encode body: %w", c.Name, err)
		}
	}
	roles := inv.Caller.Roles
	if now, ok := psgate.Roles(ctx); ok {
		roles = now // re-read for this command; the shell's may be older
	}
	tok, err := cl.cfg.Tokens.BackendToken(ctx, inv.Caller.Principal, roles, cl.b.Audience)
	if err != nil {
		return err
	}
	return cl.pages(ctx, inv, c, u, body, tok, targetOf(inv, c, tmpl, path))
}

// pickPath returns the first path template whose placeholders are bound.
func (c *Cmdlet) pickPath(inv *engine.Invocation) (Template, bool) {
	for _, t := range c.Request.Paths {
		ok := true
		for _, name := range t.Params {
			if !inv.Bound(canonical(c, name)) {
				ok = false
				break
			}
		}
		if ok {
			return t, true
		}
	}
	return Template{}, false
}

// canonical returns the declared spelling of a parameter name, as the
// engine keys inv.Params.
func canonical(c *Cmdlet, name string) string {
	for _, p := range c.Parameters {
		if strings.EqualFold(p.Name, name) {
			return p.Name
		}
	}
	return name
}

// targetOf is what an error is about: the first path parameter's value,
// else the path.
func targetOf(inv *engine.Invocation, c *Cmdlet, t Template, path string) any {
	if len(t.Params) > 0 {
		if v, ok := inv.Params[canonical(c, t.Params[0])]; ok {
			return textOf(v)
		}
	}
	return path
}

// checkPatterns applies ValidatePattern as PowerShell does, with its
// message.
func checkPatterns(inv *engine.Invocation, c *Cmdlet) error {
	for _, p := range c.Parameters {
		if p.ValidatePattern == nil || !inv.Bound(p.Name) {
			continue
		}
		var values []string
		switch v := inv.Params[p.Name].(type) {
		case string:
			values = []string{v}
		case []string:
			values = v
		}
		for _, v := range values {
			if p.ValidatePattern.MatchString(v) {
				continue
			}
			pat := strings.TrimPrefix(p.ValidatePattern.String(), "(?i)")
			e := psgate.E(psgate.CodeParameterValidation, psgate.Args{
				"name":   p.Name,
				"detail": fmt.Sprintf("The argument %q does not match the %q pattern. Supply an argument that matches %q and try again.", v, pat, pat),
			})
			rec := engine.NewErrorRecord(e, "ParameterArgumentValidationError,"+c.Name, engine.CategoryInvalidData, v)
			rec.ExceptionType = "System.Management.Automation.ParameterBindingValidationException"
			rec.Reason = "ParameterBindingValidationException"
			return &engine.TerminatingError{Record: rec}
		}
	}
	return nil
}

// textOf renders a bound value for a query string or a -WhatIf target.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// pathValue is textOf escaped for one path segment.
func pathValue(v any) string {
	return escapePath(textOf(v))
}

// method returns the request's HTTP method.
func (c *Cmdlet) method() string {
	if c.Request.Method == "" {
		return http.MethodGet
	}
	return c.Request.Method
}
