package admission

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// ActionSessionHandOver is the audit action of a shell adopted by this
// node from a draining peer: same shell, same lease, another node.
const ActionSessionHandOver = "session.handover"

// Adopt takes over a shell that node fromNode hands over (it drains): the
// owner's rights are read again, as for a new shell (a user disabled or
// stripped of every role since the shell opened is refused, and the shell
// stays where it is), then the quota lease moves to this node in one store
// write, so the slot is never free in between. From then on this node
// renews the lease and releases it when the shell closes. The hand-over is
// audited; one that cannot be audited is refused and the lease goes back.
//
// The grant's Lifetime counts from the shell's original opening (the
// lease's OpenedAt), as the gateway counts it from the original creation
// time.
func (a *Admitter) Adopt(ctx context.Context, shellID string, p psgate.Principal, fromNode string) (psgate.Grant, engine.Authorizer, error) {
	now := a.now()
	ctx = a.pin(ctx)
	rec := store.AuditRecord{Time: now, TenantID: p.TenantID, UserID: p.UserID, UPN: p.UPN, ShellID: shellID}
	refuse := func(err error, detail string) (psgate.Grant, engine.Authorizer, error) {
		return psgate.Grant{}, nil, a.refuse(ctx, rec, err, "hand-over from node "+fromNode+" refused: "+detail)
	}
	if err := a.ready(now); err != nil {
		return refuse(err, "node not admitting")
	}
	tenant, _, roles, detail, err := a.rights(ctx, p)
	if err != nil {
		return refuse(err, detail)
	}
	l, err := a.transfer(ctx, shellID, fromNode, a.cfg.NodeID, now)
	if err != nil {
		return refuse(err, "lease not transferred")
	}
	if l.TenantID != p.TenantID || l.UserID != p.UserID {
		// The peer named the wrong owner: the lease is not its to give
		// to this principal.
		a.giveBack(ctx, l, fromNode)
		return refuse(psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": shellID}),
			fmt.Sprintf("the lease belongs to user %d of tenant %d", l.UserID, l.TenantID))
	}
	rec.ClientAddr = l.ClientAddr
	rec.Action, rec.Outcome = ActionSessionHandOver, store.OutcomeOK
	rec.Detail = fmt.Sprintf("handed over from node %s to node %s (%s); %s shell, roles %v",
		fromNode, a.cfg.NodeID, a.cfg.NodeName, l.Kind, roleNames(roles))
	if _, err := a.st.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		a.giveBack(ctx, l, fromNode)
		a.log.Error("audit of hand-over failed; hand-over refused", logkey.ShellID, shellID, logkey.Err, err)
		return psgate.Grant{}, nil, psgate.Wrap(psgate.CodeStoreDown, nil, fmt.Errorf("admission: audit hand-over: %w", err))
	}
	a.mu.Lock()
	a.shells[shellID] = shellRecord{owner: p, clientAddr: l.ClientAddr}
	delete(a.moving, shellID)
	a.mu.Unlock()
	auth := a.newLiveAuthorizer(roles, psgate.ShellRequest{Principal: p, ShellID: shellID, ClientAddr: l.ClientAddr})
	a.log.Info("shell handed over to this node", logkey.ShellID, shellID, "from", fromNode)
	return psgate.Grant{
		Lifetime:    lifetime(tenant.Policy.SessionLifetime, p.ExpiresAt, l.OpenedAt),
		IdleTimeout: tenant.Policy.IdleTimeout,
		Roles:       auth.Roles(),
	}, auth, nil
}

// transfer moves the lease while no registration runs (a re-registration
// deletes this incarnation's leases).
func (a *Admitter) transfer(ctx context.Context, shellID, from, to string, now time.Time) (store.Lease, error) {
	a.gate.RLock()
	defer a.gate.RUnlock()
	if err := a.ready(now); err != nil {
		return store.Lease{}, err
	}
	l, err := a.st.TransferLease(ctx, shellID, from, to, a.cfg.LeaseTTL, now)
	switch {
	case err == nil:
		return l, nil
	case errors.Is(err, store.ErrNotFound):
		// Expired, removed by an administrator, or never the peer's.
		return store.Lease{}, psgate.Wrap(psgate.CodeShellNotFound, psgate.Args{"shell": shellID}, err)
	}
	return store.Lease{}, storeDown("transfer lease", err)
}

// giveBack returns a lease this node took to the node it came from.
func (a *Admitter) giveBack(ctx context.Context, l store.Lease, to string) {
	if _, err := a.st.TransferLease(context.WithoutCancel(ctx), l.ShellID, a.cfg.NodeID, to, a.cfg.LeaseTTL, a.now()); err != nil {
		a.log.Warn("returning a refused hand-over's lease failed; it expires by itself", logkey.ShellID, l.ShellID, logkey.Err, err)
	}
}

func roleNames(roles []store.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

// BeginHandOver is the giving node's side: the shell is about to move to
// a peer. Until EndHandOver its lease is left out of renewals and never
// reported lost (the peer may already hold it), and it is not released.
func (a *Admitter) BeginHandOver(shellID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.moving == nil {
		a.moving = make(map[string]bool)
	}
	a.moving[shellID] = true
}

// EndHandOver ends what BeginHandOver began. adopted: the peer holds the
// shell and its lease now, and this node forgets the shell without
// releasing anything (the peer audited the move); the gateway must no
// longer list it. Not adopted: the shell stays, and its lease is renewed
// again.
func (a *Admitter) EndHandOver(shellID string, adopted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.moving, shellID)
	if adopted {
		delete(a.shells, shellID)
		delete(a.reported, shellID)
	}
}

// notMoving drops the shells being handed over from the gateway's list.
func (a *Admitter) notMoving(live []psgate.ShellActivity) []psgate.ShellActivity {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.moving) == 0 {
		return live
	}
	out := make([]psgate.ShellActivity, 0, len(live))
	for _, sa := range live {
		if !a.moving[sa.ShellID] {
			out = append(out, sa)
		}
	}
	return out
}

// dropMoving drops the shells being handed over from ids.
func (a *Admitter) dropMoving(ids []string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.moving) == 0 {
		return ids
	}
	out := ids[:0:0]
	for _, id := range ids {
		if !a.moving[id] {
			out = append(out, id)
		}
	}
	return out
}

// ReturnLease undoes an Adopt whose shell could not be installed here
// after all: the lease goes back to node to, and this node forgets the
// shell without releasing it.
func (a *Admitter) ReturnLease(ctx context.Context, shellID, to string) {
	a.mu.Lock()
	delete(a.shells, shellID)
	a.mu.Unlock()
	a.giveBack(ctx, store.Lease{ShellID: shellID}, to)
}
