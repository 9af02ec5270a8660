package psrp

import (
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// ErrorCategory is a System.Management.Automation.ErrorCategory value.
type ErrorCategory int32

// Error categories (the .NET enum's values).
const (
	CategoryNotSpecified        ErrorCategory = 0
	CategoryInvalidArgument     ErrorCategory = 5
	CategoryInvalidData         ErrorCategory = 6
	CategoryInvalidOperation    ErrorCategory = 7
	CategoryObjectNotFound      ErrorCategory = 13
	CategoryOperationStopped    ErrorCategory = 14
	CategoryOperationTimeout    ErrorCategory = 15
	CategoryParserError         ErrorCategory = 17
	CategoryPermissionDenied    ErrorCategory = 18
	CategoryResourceUnavailable ErrorCategory = 21
	CategorySecurityError       ErrorCategory = 25
	CategoryAuthenticationError ErrorCategory = 28
	CategoryLimitsExceeded      ErrorCategory = 29
	CategoryQuotaExceeded       ErrorCategory = 30
	CategoryNotEnabled          ErrorCategory = 31
)

// String returns the .NET member name, or "NotSpecified" for an unknown
// value.
func (c ErrorCategory) String() string {
	names := [...]string{"NotSpecified", "OpenError", "CloseError", "DeviceError", "DeadlockDetected",
		"InvalidArgument", "InvalidData", "InvalidOperation", "InvalidResult", "InvalidType",
		"MetadataError", "NotImplemented", "NotInstalled", "ObjectNotFound", "OperationStopped",
		"OperationTimeout", "SyntaxError", "ParserError", "PermissionDenied", "ResourceBusy",
		"ResourceExists", "ResourceUnavailable", "ReadError", "WriteError", "FromStdErr",
		"SecurityError", "ProtocolError", "ConnectionError", "AuthenticationError",
		"LimitsExceeded", "QuotaExceeded", "NotEnabled"}
	if c >= 0 && int(c) < len(names) {
		return names[c]
	}
	return "NotSpecified"
}

// ErrorRecord is what the server sends for an error: in ERROR_RECORD, and
// as the ExceptionAsErrorRecord of a failed pipeline or broken pool. The
// gateway fills it from engine.ErrorRecord.
type ErrorRecord struct {
	// Message is the exception message PowerShell shows.
	Message string
	// ExceptionType is the .NET exception type, e.g.
	// "System.Management.Automation.CommandNotFoundException"; empty
	// means "System.Exception".
	ExceptionType         string
	FullyQualifiedErrorID string
	Category              ErrorCategory
	// Activity is usually the command name; Reason defaults to the short
	// exception type name.
	Activity, Reason       string
	TargetName, TargetType string
	// Target is the TargetObject (nil allowed).
	Target any
	// DetailsMessage replaces Message in PowerShell's display when set.
	DetailsMessage string
	// RecommendedAction is the catalog resolution
	// (ErrorDetails.RecommendedAction).
	RecommendedAction string
	// Code is the psgate error code, sent as the psgateErrorCode property.
	Code string
}

// reason returns Reason or the short name of the exception type.
func (r *ErrorRecord) reason() string {
	if r.Reason != "" {
		return r.Reason
	}
	t := r.exceptionType()
	return t[strings.LastIndexByte(t, '.')+1:]
}

func (r *ErrorRecord) exceptionType() string {
	if r.ExceptionType == "" {
		return "System.Exception"
	}
	return r.ExceptionType
}

// exceptionTypeNames returns the exception's type hierarchy as PowerShell
// serializes it; psgate only knows the most derived type, so the middle is
// PowerShell's usual chain.
func (r *ErrorRecord) exceptionTypeNames() []string {
	t := r.exceptionType()
	switch {
	case t == "System.Exception":
		return []string{t, "System.Object"}
	case t == "System.Management.Automation.RuntimeException":
		return []string{t, "System.SystemException", "System.Exception", "System.Object"}
	case strings.HasPrefix(t, "System.Management.Automation."):
		return []string{t, "System.Management.Automation.RuntimeException", "System.SystemException", "System.Exception", "System.Object"}
	}
	return []string{t, "System.SystemException", "System.Exception", "System.Object"}
}

// categoryMessage is ErrorCategoryInfo.GetMessage: "ObjectNotFound:
// (alice:String) [Get-CsOnlineUser], ManagementException".
func (r *ErrorRecord) categoryMessage() string {
	return fmt.Sprintf("%s: (%s:%s) [%s], %s", r.Category, r.TargetName, r.TargetType, r.Activity, r.reason())
}

// object builds the serialized ErrorRecord with every property
// PowerShell's ErrorPackage and pypsrp require.
func (r *ErrorRecord) object(writeErrorStream bool) *psobject.Object {
	exc := &psobject.Object{
		TypeNames: r.exceptionTypeNames(),
		Text:      r.exceptionType() + ": " + r.Message,
		Props: []psobject.Property{
			p("Message", r.Message),
			p("Data", &psobject.Dict{TypeNames: []string{"System.Collections.ListDictionaryInternal", "System.Object"}}),
			p("InnerException", nil),
			p("TargetSite", nil),
			p("StackTrace", nil),
			p("HelpLink", nil),
			p("Source", nil),
			p("HResult", int32(-2146233087)),
		},
	}
	display := r.Message
	if r.DetailsMessage != "" {
		display = r.DetailsMessage
	}
	o := &psobject.Object{
		TypeNames: []string{"System.Management.Automation.ErrorRecord", "System.Object"},
		Text:      display,
	}
	if writeErrorStream {
		o.Extended = append(o.Extended, p("writeErrorStream", true))
	}
	o.Extended = append(o.Extended,
		p("Exception", exc),
		p("TargetObject", r.Target),
		p("FullyQualifiedErrorId", r.FullyQualifiedErrorID),
		p("ErrorCategory_Category", int32(r.Category)),
		p("ErrorCategory_Activity", r.Activity),
		p("ErrorCategory_Reason", r.reason()),
		p("ErrorCategory_TargetName", r.TargetName),
		p("ErrorCategory_TargetType", r.TargetType),
		p("ErrorCategory_Message", r.categoryMessage()),
	)
	// PowerShell writes both ErrorDetails properties or neither.
	if r.DetailsMessage != "" || r.RecommendedAction != "" {
		o.Extended = append(o.Extended,
			p("ErrorDetails_Message", display),
			p("ErrorDetails_RecommendedAction", r.RecommendedAction),
		)
	}
	o.Extended = append(o.Extended, p("SerializeExtendedInfo", false))
	if r.Code != "" {
		o.Extended = append(o.Extended, p("psgateErrorCode", r.Code))
	}
	return o
}

// PipelineStoppedError is the reason PowerShell gives for a pipeline
// stopped by the client (Ctrl+C, Stop-Job).
func PipelineStoppedError() *ErrorRecord {
	return &ErrorRecord{
		Message:               "The pipeline has been stopped.",
		ExceptionType:         "System.Management.Automation.PipelineStoppedException",
		FullyQualifiedErrorID: "PipelineStopped",
		Category:              CategoryOperationStopped,
	}
}

// NewErrorRecord builds ERROR_RECORD, a non-terminating error.
func NewErrorRecord(rpid, pid GUID, r *ErrorRecord) (Message, error) {
	return marshal(MsgErrorRecord, rpid, pid, r.object(true))
}

// NewInformationalRecord builds WARNING_RECORD, VERBOSE_RECORD or
// DEBUG_RECORD (t chooses which) carrying message.
func NewInformationalRecord(t MessageType, rpid, pid GUID, message string) (Message, error) {
	var first string
	switch t {
	case MsgWarningRecord:
		first = "System.Management.Automation.WarningRecord"
	case MsgVerboseRecord:
		first = "System.Management.Automation.VerboseRecord"
	case MsgDebugRecord:
		first = "System.Management.Automation.DebugRecord"
	default:
		return Message{}, fmt.Errorf("psrp: %s is not an informational record", t)
	}
	return marshal(t, rpid, pid, &psobject.Object{
		TypeNames: []string{first, "System.Management.Automation.InformationalRecord", "System.Object"},
		Text:      message,
		Extended: []psobject.Property{
			p("InformationalRecord_Message", message),
			p("InformationalRecord_SerializeInvocationInfo", false),
		},
	})
}

// InformationRecord is an INFORMATION_RECORD payload (protocol 2.3, Write-
// Information and Write-Host). Every field is sent; pypsrp requires them.
type InformationRecord struct {
	MessageData   any
	Source        string
	TimeGenerated time.Time
	Tags          []string
	User          string
	Computer      string
	// ProcessID, NativeThreadID and ManagedThreadID are reported as
	// PowerShell does; psgate has no meaningful values and may send 0.
	ProcessID, NativeThreadID, ManagedThreadID uint32
}

// NewInformationRecord builds INFORMATION_RECORD. Only send it to clients
// that negotiated protocol 2.3.
func NewInformationRecord(rpid, pid GUID, r InformationRecord) (Message, error) {
	tags := make([]any, len(r.Tags))
	for i, t := range r.Tags {
		tags[i] = t
	}
	return marshal(MsgInformationRecord, rpid, pid, root(
		p("MessageData", r.MessageData),
		p("Source", r.Source),
		p("TimeGenerated", r.TimeGenerated),
		p("Tags", clixml.List{TypeNames: []string{typeListOfString, "System.Object"}, Items: tags}),
		p("User", r.User),
		p("Computer", r.Computer),
		p("ProcessId", r.ProcessID),
		p("NativeThreadId", r.NativeThreadID),
		p("ManagedThreadId", r.ManagedThreadID),
	))
}

// ProgressRecord is a PROGRESS_RECORD payload.
type ProgressRecord struct {
	Activity          string
	ActivityID        int32
	StatusDescription string
	// CurrentOperation is sent as Nil when empty.
	CurrentOperation string
	// ParentActivityID, PercentComplete and SecondsRemaining use -1 for
	// "none", as PowerShell does.
	ParentActivityID int32
	PercentComplete  int32
	Completed        bool
	SecondsRemaining int32
}

// NewProgressRecord builds PROGRESS_RECORD.
func NewProgressRecord(rpid, pid GUID, r ProgressRecord) Message {
	return mustMarshal(MsgProgressRecord, rpid, pid, r.object())
}
