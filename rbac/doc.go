// Package rbac is role-based access control over the engine's commands:
// it turns a user's roles (store.Role) into the commands, parameters and
// parameter values a runspace shows and runs.
//
// Compile builds a role set's Permissions; deny entries win over allow
// entries, and a set of built-in commands every session needs
// (AlwaysVisible) is always shown. Explain says which roles grant or deny
// a command or parameter (Test-CsAdminPermission). Authorizer implements
// engine.Authorizer for one caller; its refusals name the tenant's roles
// that would allow the call.
//
// The package reads nothing by itself: the admission package re-reads a
// shell's roles before every pipeline and hands them to SetRoles, and the
// tenant cmdlets compile roles they read to answer questions about them.
package rbac
