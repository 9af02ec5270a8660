// Package admission decides who may open a shell and what they may run in
// it: the tenant's remote PowerShell policy, the caller's roles (package
// rbac), and the concurrent-shell quotas held as leases in the store.
//
// An Admitter satisfies the gateway's Admitter interface without importing
// the gateway: it speaks the root package's vocabulary (psgate.ShellRequest,
// psgate.Grant, psgate.CloseReason, psgate.ShellActivity). Admit checks, in
// order, the tenant policy (EnableRemotePowerShellAccess), that the user
// holds at least one role, the creation-rate limit, and then takes the
// shell's lease for the user and the tenant in one atomic store step. Every
// decision is audited before Admit returns. Release frees the lease at
// once.
//
// Leases live only while this node renews them. Tick, which the server's
// loop calls every second with the gateway's shells, registers the node,
// renews the leases of those shells, reports leases the store no longer
// has (the server then closes their shells), sweeps
// expired leases, and fails closed: once the last successful renewal is
// older than the lease TTL less a safety margin, Admit refuses with
// store.unavailable and every shell is reported lost, so a shell never
// outlives the slot that admitted it.
//
// Rights are not frozen at admission. The authorizer a shell is granted
// (an rbac.Authorizer wrapped by this package) re-reads the user's account
// and roles from the store before every pipeline it runs
// (engine.Refresher): two primary-key reads, so a role revoked or an
// account disabled on any node sharing the store applies to the next
// command of every open shell, and a store failure refuses the command.
// The same authorizer audits every engine command
// (engine.CommandAuditor): a record with outcome "started" is committed
// before the command runs, so a search shows it even if the process dies,
// and the same record is completed with the outcome, code and duration
// once it ended (store.Audit.CompleteAudit). The records of a pipeline's
// commands share one commit, which with store/cache in front also reads
// the directory generation the rights check then validates the cache
// with (store.AuditGenerations), so the check costs no store read.
package admission
