package gateway

import "github.com/psgate/psgate/internal/logkey"

// Attribute keys of the gateway's structured logs: the module's one set.
const (
	logKeyRequestID = logkey.RequestID
	logKeyTenant    = logkey.Tenant
	logKeyUser      = logkey.User
	logKeyShellID   = logkey.ShellID
	logKeyCommandID = logkey.CommandID
	logKeyAction    = logkey.Action
	logKeyCode      = logkey.Code
	logKeyClient    = logkey.Client
	logKeyErr       = logkey.Err
	logKeyReason    = logkey.Reason
	logKeyNode      = logkey.Node
)
