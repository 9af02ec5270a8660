package psgate

import (
	"context"
	"time"
)

// TenantID identifies a tenant in the store.
type TenantID int64

// UserID identifies a user in the store.
type UserID int64

// ShellKind is the protocol a shell speaks.
type ShellKind string

// Shell kinds.
const (
	KindWinRS ShellKind = "winrs" // a WinRS command shell (cmd-style)
	KindPSRP  ShellKind = "psrp"  // a PowerShell runspace pool
)

// ShellRequest describes a shell being opened, for admission.
type ShellRequest struct {
	Principal  Principal
	ShellID    string
	Kind       ShellKind
	Name       string
	ClientAddr string
	UserAgent  string
}

// Grant is what admission allows a new shell (beside the authorizer that
// trims its commands, which belongs to the engine).
type Grant struct {
	// Lifetime closes the shell this long after it opened (0: never).
	Lifetime time.Duration
	// IdleTimeout closes the shell after this long without requests.
	IdleTimeout time.Duration
	// Roles names the caller's roles, for display.
	Roles []string
}

// ShellState is whether a client is attached to a shell.
type ShellState string

// Shell states, as the quota leases record them.
const (
	ShellConnected    ShellState = "connected"
	ShellDisconnected ShellState = "disconnected"
)

// ShellActivity is one open shell's state and last request time, as the
// gateway knows it; the quota leases record it.
type ShellActivity struct {
	ShellID    string
	State      ShellState
	LastActive time.Time
}

// CloseCause is why a shell closed.
type CloseCause string

// Close causes. They appear in the audit log ("reason: idle").
const (
	CloseClient   CloseCause = "closed"   // the client deleted the shell
	CloseIdle     CloseCause = "idle"     // no request within the idle timeout
	CloseLifetime CloseCause = "lifetime" // the session lifetime ran out
	CloseShutdown CloseCause = "shutdown" // the node is shutting down
	CloseRemoved  CloseCause = "removed"  // Remove-CsOnlineSession or a role change
	CloseLost     CloseCause = "lost"     // the quota lease is gone
	CloseBroken   CloseCause = "broken"   // the client sent a broken fragment stream
	CloseBudget   CloseCause = "budget"   // unfinished client data passed its budget
)

// CloseReason is why a shell closed and, when someone closed it, who.
type CloseReason struct {
	Cause CloseCause
	// By is the user principal name of whoever removed the shell
	// (CloseRemoved); empty when the service did.
	By string
}

// ClosedBy returns the reason for a shell someone removed.
func ClosedBy(upn string) CloseReason { return CloseReason{Cause: CloseRemoved, By: upn} }

// String is the reason as the audit log records it: "idle", or
// "removed by admin@contoso.com".
func (r CloseReason) String() string {
	if r.By != "" {
		return string(r.Cause) + " by " + r.By
	}
	return string(r.Cause)
}

// commandIDKey carries the client's command a pipeline runs for.
type commandIDKey struct{}

// WithCommandID returns ctx for running the client's command id (a WinRS
// CommandId or a PSRP pipeline ID).
func WithCommandID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, commandIDKey{}, id)
}

// CommandID returns the client's command or pipeline ID that ctx runs
// for, or "": audit records carry it.
func CommandID(ctx context.Context) string {
	id, _ := ctx.Value(commandIDKey{}).(string)
	return id
}

// rolesKey carries the caller's roles as re-read for one command.
type rolesKey struct{}

// WithRoles returns ctx for a command whose caller holds roles, as read
// from the store just before it runs.
func WithRoles(ctx context.Context, roles []string) context.Context {
	return context.WithValue(ctx, rolesKey{}, roles)
}

// Roles returns the caller's roles as re-read for the command ctx runs,
// and whether they were (a shell's roles at admission may be older).
func Roles(ctx context.Context) ([]string, bool) {
	r, ok := ctx.Value(rolesKey{}).([]string)
	return r, ok
}
