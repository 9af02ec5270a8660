// Package cmdlets holds psgate's tenant administration cmdlets, written in
// Go for the command engine: Get-CsTenant, Get-CsOnlineUser, Set-CsUser,
// Get-CsAdminRole, Grant-CsAdminRole, Revoke-CsAdminRole,
// Get-CsTenantPowerShellPolicy, Get-CsOnlineSession,
// Remove-CsOnlineSession, Search-CsAdminAuditLog and
// Test-CsAdminPermission.
//
// The cmdlets reach the store through the narrow Directory interface,
// always for the caller's own tenant (engine.Caller.TenantID): no cmdlet
// takes a tenant parameter, and records of another tenant are never
// written or changed even if the directory returned them. Which cmdlets
// and parameters a caller may use is the runspace's authorizer's decision
// (package admission); the cmdlets themselves only enforce what depends on
// the target: a user sees and removes their own sessions, a tenant
// administrator any session of the tenant, and the tenant's last
// administrator keeps the role. Store records become PowerShell objects
// through the converters in objects.go and objects_admin.go, whose type
// names and default display property sets decide how the text formatter
// shows them.
//
// Register adds the cmdlets to an engine.Catalog; WithSessionCloser lets
// Remove-CsOnlineSession close a shell hosted by this process at once.
// Each cmdlet lives in its own file with its help text (synopsis,
// description, parameter help and examples) so that Get-Help is useful.
package cmdlets
