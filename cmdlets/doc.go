// Package cmdlets holds psgate's tenant administration cmdlets
// (Get-CsTenant, Get-CsOnlineUser, ...), written in Go for the command
// engine.
//
// The cmdlets read the directory through the narrow Directory interface,
// always for the caller's own tenant (engine.Caller.TenantID): no cmdlet
// takes a tenant parameter, and records of another tenant are never
// written even if the directory returned them. Store records become
// PowerShell objects through the converters in objects.go (TenantObject,
// OnlineUserObject), whose type names and default display property sets
// decide how the text formatter shows them.
//
// Register adds the cmdlets to an engine.Catalog; each cmdlet lives in its
// own file with its help text (synopsis, description, parameter help and
// examples) so that Get-Help is useful.
package cmdlets
