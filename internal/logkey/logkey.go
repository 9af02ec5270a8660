// Package logkey is the one set of attribute keys psgate's structured logs
// use for the things an operator searches by: a shell, a user, a tenant, a
// request. Every package logs them under these names, so one query finds a
// shell's story from sign-in to close whichever component wrote it. Keys
// only one component logs (a signing key's kid, a retention cut-off) stay
// literal where they are written.
package logkey

// Attribute keys.
const (
	RequestID = "request_id" // the gateway's number for one HTTP request
	Tenant    = "tenant"     // a tenant's name
	TenantID  = "tenant_id"  // a tenant's store id
	User      = "user"       // a user principal name
	UserID    = "user_id"    // a user's store id
	ShellID   = "shell_id"   // a WS-Man ShellId
	Shells    = "shells"     // several ShellIds, or how many
	CommandID = "command_id" // a WinRS CommandId or PSRP pipeline id
	Command   = "command"    // a command's (cmdlet's) name
	Client    = "client"     // the client's network address
	ClientID  = "client_id"  // an OAuth client (application) id
	Node      = "node"       // a gateway node's incarnation id
	Action    = "action"     // a WS-Man action, or an audit action
	Code      = "code"       // an error catalog code
	Reason    = "reason"     // why something was refused or closed
	Err       = "err"        // the error
)

// aliases are keys that spelled one of the above differently before there
// was one set; the module test refuses them as literals.
var aliases = map[string]string{
	"shell":        ShellID,
	"upn":          User,
	"error":        Err,
	"remote":       Client,
	"command_name": Command,
}
