package engine

import (
	"github.com/psgate/psgate"
)

// Category is a System.Management.Automation.ErrorCategory value.
type Category int32

// Error categories (the .NET enum's values; never renumber).
const (
	CategoryNotSpecified        Category = 0
	CategoryInvalidArgument     Category = 5
	CategoryInvalidData         Category = 6
	CategoryInvalidOperation    Category = 7
	CategoryInvalidResult       Category = 8
	CategoryInvalidType         Category = 9
	CategoryObjectNotFound      Category = 13
	CategoryOperationStopped    Category = 14
	CategoryOperationTimeout    Category = 15
	CategoryParserError         Category = 17
	CategoryPermissionDenied    Category = 18
	CategoryResourceBusy        Category = 19
	CategoryResourceExists      Category = 20
	CategoryResourceUnavailable Category = 21
	CategorySecurityError       Category = 25
	CategoryLimitsExceeded      Category = 29
)

var categoryNames = map[Category]string{
	CategoryNotSpecified:        "NotSpecified",
	CategoryInvalidArgument:     "InvalidArgument",
	CategoryInvalidData:         "InvalidData",
	CategoryInvalidOperation:    "InvalidOperation",
	CategoryInvalidResult:       "InvalidResult",
	CategoryInvalidType:         "InvalidType",
	CategoryObjectNotFound:      "ObjectNotFound",
	CategoryOperationStopped:    "OperationStopped",
	CategoryOperationTimeout:    "OperationTimeout",
	CategoryParserError:         "ParserError",
	CategoryPermissionDenied:    "PermissionDenied",
	CategoryResourceBusy:        "ResourceBusy",
	CategoryResourceExists:      "ResourceExists",
	CategoryResourceUnavailable: "ResourceUnavailable",
	CategoryLimitsExceeded:      "LimitsExceeded",
	CategorySecurityError:       "SecurityError",
	// The enum's other members, for Write-Error -Category.
	1: "OpenError", 2: "CloseError", 3: "DeviceError", 4: "DeadlockDetected",
	10: "MetadataError", 11: "NotImplemented", 12: "NotInstalled", 16: "SyntaxError",
	22: "ReadError", 23: "WriteError", 24: "FromStdErr", 26: "ProtocolError",
	27: "ConnectionError", 28: "AuthenticationError", 30: "QuotaExceeded", 31: "NotEnabled",
}

// String returns the enum member name.
func (c Category) String() string {
	if n, ok := categoryNames[c]; ok {
		return n
	}
	return "NotSpecified"
}

// ErrorRecord mirrors System.Management.Automation.ErrorRecord.
type ErrorRecord struct {
	// Err is the user-facing error; its Message is the exception message
	// and its Code travels as the psgate error code.
	Err *psgate.Error
	// ExceptionType is the .NET exception type name shown to clients,
	// e.g. "System.Management.Automation.CommandNotFoundException".
	ExceptionType string
	// FullyQualifiedErrorID is PowerShell's error id, e.g.
	// "CommandNotFoundException" or "NamedParameterNotFound,Get-CsOnlineUser".
	FullyQualifiedErrorID string
	Category              Category
	// Activity is usually the command name.
	Activity   string
	Reason     string // usually the exception type's short name
	TargetName string
	TargetType string
	// Target is the target object (may be nil).
	Target any

	// complete is set once the engine has filled the record in; records
	// passed on from nested statements keep their command's identity.
	complete bool
}

// Message returns the exception message.
func (r *ErrorRecord) Message() string {
	if r.Err == nil {
		return ""
	}
	return r.Err.Message
}

// TerminatingError is returned by a command's Run (or by the engine) to stop
// the pipeline with an error record.
type TerminatingError struct {
	Record *ErrorRecord
	// Written is set by RunScript when the record was also written to the
	// sink's error stream: a statement error that let the script go on.
	Written bool
}

func (e *TerminatingError) Error() string { return "engine: " + e.Record.Message() }

// Unwrap exposes the psgate error.
func (e *TerminatingError) Unwrap() error { return e.Record.Err }
