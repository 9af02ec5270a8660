package gateway

// Attribute keys of the gateway's structured logs.
const (
	logKeyRequestID = "request_id"
	logKeyTenant    = "tenant"
	logKeyUser      = "user"
	logKeyShellID   = "shell_id"
	logKeyCommandID = "command_id"
	logKeyAction    = "action"
	logKeyCode      = "code"
	logKeyClient    = "client"
	logKeyErr       = "err"
	logKeyReason    = "reason"
)
