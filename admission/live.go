package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/store"
)

// liveAuthorizer is the authorizer the Admitter grants a shell: the
// caller's roles (rbac.Authorizer), re-read from the store before every
// pipeline (engine.Refresher), with every command audited before it runs
// and its record completed when it ends (engine.CommandAuditor).
type liveAuthorizer struct {
	*rbac.Authorizer
	st         Store
	pin        func(context.Context) context.Context
	log        *slog.Logger
	now        func() time.Time
	p          psgate.Principal
	shellID    string
	clientAddr string
	// seq numbers the shell's audited commands.
	seq atomic.Int64
}

var (
	_ engine.Authorizer     = (*liveAuthorizer)(nil)
	_ engine.Refresher      = (*liveAuthorizer)(nil)
	_ engine.CommandAuditor = (*liveAuthorizer)(nil)
)

// newLiveAuthorizer returns the authorizer the Admitter grants a shell.
func (a *Admitter) newLiveAuthorizer(roles []store.Role, req psgate.ShellRequest) *liveAuthorizer {
	return &liveAuthorizer{
		Authorizer: rbac.NewAuthorizer(roles, req.Principal.TenantID, a.st),
		st:         a.st, pin: a.pin, log: a.log, now: a.now, p: req.Principal,
		shellID: req.ShellID, clientAddr: req.ClientAddr,
	}
}

// Refresh re-reads the caller's account and roles (engine.Refresher). A
// disabled account is refused with identity.logon-failed, a user without
// roles (or no longer in the tenant) with admission.no-admin-role, and a
// store failure with store.unavailable: the check fails closed. The
// context returned is pinned for the pipeline (by begin, at the
// generation its audit commit read, or else here by Config.Pin): its
// commands read the directory as this check saw it.
func (l *liveAuthorizer) Refresh(ctx context.Context) (context.Context, error) {
	if ctx.Value(pinnedKey{}) != l {
		ctx = l.pin(ctx)
	}
	roles, err := l.check(ctx)
	if err != nil {
		return ctx, err
	}
	l.SetRoles(roles)
	// Commands that pass the caller on (module cmdlets, to the operator's
	// backend) name the roles as of now, not as of the shell's admission.
	return psgate.WithRoles(ctx, l.Roles()), nil
}

// BeginCommands audits a pipeline's commands before they run
// (engine.CommandAuditor).
func (l *liveAuthorizer) BeginCommands(ctx context.Context, calls []engine.AuditedCall) (context.Context, func(error, time.Duration), error) {
	return l.begin(ctx, calls)
}

// genPinner is the store/cache capability begin uses when the store has
// it: the pipeline's context is pinned at the directory generation the
// commit of its records read (store.AuditGenerations), so Refresh
// validates the cache without a read of its own.
type genPinner interface {
	PinAt(ctx context.Context, gen int64) context.Context
}

// pinnedKey marks the context begin pinned, valued with the authorizer
// that did; Refresh then keeps that pin. Every begin sets it (nil when it
// pinned nothing), so that a nested pipeline's Refresh never takes the
// pin of the pipeline around it.
type pinnedKey struct{}

// check reads the caller's account and roles: two indexed reads by
// primary key, so that a role change or a disabled account made on any
// node applies to the next command.
func (l *liveAuthorizer) check(ctx context.Context) ([]store.Role, error) {
	user, err := l.st.User(ctx, l.p.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeDown("re-read user", err)
	}
	if err != nil || user.TenantID != l.p.TenantID {
		return nil, psgate.E(psgate.CodeNoAdminRole, psgate.Args{"upn": l.p.UPN})
	}
	if !user.Enabled {
		return nil, psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": user.UPN})
	}
	roles, err := l.st.RolesOf(ctx, l.p.TenantID, l.p.UserID)
	if err != nil {
		return nil, storeDown("re-read roles", err)
	}
	if len(roles) == 0 {
		return nil, psgate.E(psgate.CodeNoAdminRole, psgate.Args{"upn": user.UPN})
	}
	return roles, nil
}

// begin writes one started record per command, durably, and returns the
// context the pipeline goes on in and the function that completes them.
// With a store that can, the records go in one commit, which also
// validates the directory cache the pipeline's rights check reads.
func (l *liveAuthorizer) begin(ctx context.Context, calls []engine.AuditedCall) (context.Context, func(error, time.Duration), error) {
	run := context.WithValue(ctx, pinnedKey{}, nil)
	ctx = context.WithoutCancel(ctx)
	line := psgate.CommandID(ctx)
	recs := make([]store.AuditRecord, len(calls))
	for i, c := range calls {
		rec, err := l.record(line, c)
		if err != nil {
			return nil, nil, psgate.Wrap(psgate.CodeInternal, psgate.Args{"request": line}, err)
		}
		rec.Outcome = store.OutcomeStarted
		recs[i] = rec
	}
	ids, gen, err := store.AppendAudits(ctx, l.st, recs)
	end := func(err error, dur time.Duration) { l.complete(ctx, recs, ids, err, dur) }
	if err != nil {
		// Not on the record, so not run; the records that were
		// written say so.
		down := storeDown("audit command start", err)
		end(down, 0)
		return nil, nil, down
	}
	if p, ok := l.st.(genPinner); ok {
		run = context.WithValue(p.PinAt(run, gen), pinnedKey{}, l)
	}
	return run, end, nil
}

// complete records the outcome of the commands whose started records are
// ids (0: not written), in one commit.
func (l *liveAuthorizer) complete(ctx context.Context, recs []store.AuditRecord, ids []int64, err error, dur time.Duration) {
	outcome, code := store.OutcomeOK, ""
	if err != nil {
		outcome, code = store.OutcomeError, string(psgate.CodeOf(err))
	}
	failed := func(rec store.AuditRecord, err error) {
		l.log.Error("audit of command end failed; its record stays started", logkey.ShellID, l.shellID,
			logkey.CommandID, rec.CommandID, logkey.Err, err)
	}
	if len(ids) == 1 { // the usual pipeline: no slices to build
		if ids[0] != 0 {
			if err := l.st.CompleteAudit(ctx, ids[0], outcome, code, dur); err != nil {
				failed(recs[0], err)
			}
		}
		return
	}
	written := make([]int64, 0, len(ids))
	at := make([]int, 0, len(ids)) // written[k] is the record of recs[at[k]]
	for i, id := range ids {
		if id != 0 {
			written, at = append(written, id), append(at, i)
		}
	}
	if len(written) == 0 {
		return
	}
	for k, err := range store.CompleteAudits(ctx, l.st, written, outcome, code, dur) {
		if err != nil {
			failed(recs[at[k]], err)
		}
	}
}

// record builds the audit record of one command: the cmdlet, its
// arguments as written (named or by position, "#0"...) with sensitive
// values redacted, and a command ID unique in the shell: the client's
// command or pipeline ID and the command's number in the shell.
func (l *liveAuthorizer) record(line string, c engine.AuditedCall) (store.AuditRecord, error) {
	rec := store.AuditRecord{
		Time: l.now(), TenantID: l.p.TenantID, UserID: l.p.UserID, UPN: l.p.UPN,
		Action: store.ActionCommand, ShellID: l.shellID, Cmdlet: c.Call.Name, ClientAddr: l.clientAddr,
		CommandID: line + "#" + strconv.FormatInt(l.seq.Add(1), 10),
	}
	if c.Call.IsScript {
		rec.Cmdlet, rec.Detail = "(script)", c.Call.Name
		return rec, nil
	}
	if c.Command != nil {
		rec.Cmdlet = c.Command.Name
	}
	params := make(map[string]any, len(c.Call.Args))
	secret := map[string]bool{}
	args := c.Call.Args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.Name == "" {
			params["#"+strconv.Itoa(i)] = a.Value
			continue
		}
		key := a.Name
		p, known := c.Command.ResolveParameter(a.Name)
		if known {
			key = p.Name
			secret[key] = p.Sensitive
		}
		if !a.HasValue && i+1 < len(args) && args[i+1].Name == "" && (!known || p.Type != engine.TypeSwitch) {
			// "-Name value": the value is the next argument; keep them
			// together, so that a sensitive value is redacted.
			i++
			a.Value = args[i].Value
		}
		params[key] = a.Value
	}
	sensitive := func(name string) bool { return secret[name] }
	text, err := redactParams(params, sensitive)
	if err != nil {
		return rec, fmt.Errorf("admission: audit command %s: %w", rec.Cmdlet, err)
	}
	rec.Parameters = text
	return rec, nil
}
