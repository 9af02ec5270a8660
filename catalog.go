package psgate

import (
	"slices"
	"strings"
)

// Entry is one row of the error catalog.
type Entry struct {
	Code Code
	// Title is a short name for the failure, used as a heading in docs.
	Title string
	// Message is the template shown to users; {name} placeholders are filled
	// by E. Where the original connector troubleshooting guide gives a
	// text, this is its exact wording.
	Message string
	// Resolution says how to fix it, in the same template syntax.
	Resolution string
	// HTTPStatus is the status the gateway answers with (0: not an HTTP error).
	HTTPStatus int
	// FaultCode is the SOAP fault code, "s:Sender" or "s:Receiver".
	FaultCode string
	// FaultSubcode is the WS-Management fault subcode, e.g. "w:QuotaLimit".
	FaultSubcode string
	// WSManCode is the numeric WSManFault code (a Windows error code).
	WSManCode uint32
	// GuideSection names the section of the original connector
	// troubleshooting guide this entry reproduces, if any.
	GuideSection string
	// Retired, when set, says why psgate no longer raises the code. A
	// retired entry stays in the catalog so that the published code keeps
	// its documentation and is never reused, but E and Wrap refuse it
	// (they panic, as for an unknown code), Codes and Lookup leave it out,
	// and it has no Go constant. Retired lists these entries.
	Retired string
}

// Catalog codes. Grouped by area; a published code is never renamed. A
// retired code loses its constant (see Entry.Retired): identity.token-revoked
// and psrp.host-call-unsupported.
const (
	CodeInternal     Code = "server.internal"
	CodeShuttingDown Code = "server.shutting-down"
	CodeStoreDown    Code = "store.unavailable"
	CodeNodeLost     Code = "session.node-lost"
	CodeOtherNode    Code = "session.other-node"
	// CodeOwnerUnreachable: the node holding the shell is registered
	// but did not answer the forwarded request.
	CodeOwnerUnreachable Code = "cluster.owner-unreachable"

	CodeEnvelopeTooLarge     Code = "wsman.envelope-too-large"
	CodeMalformedEnvelope    Code = "wsman.malformed-envelope"
	CodeMissingHeader        Code = "wsman.missing-header"
	CodeActionNotSupported   Code = "wsman.action-not-supported"
	CodeUnknownResourceURI   Code = "wsman.unknown-resource-uri"
	CodeShellNotFound        Code = "wsman.shell-not-found"
	CodeMissingSelector      Code = "wsman.missing-selector"
	CodeCommandIDNotFound    Code = "wsman.command-not-found"
	CodeOperationTimeout     Code = "wsman.operation-timeout"
	CodeInvalidParameter     Code = "wsman.invalid-parameter"
	CodeShellDisconnected    Code = "wsman.shell-disconnected"
	CodeTooManyCommands      Code = "wsman.too-many-commands"
	CodeCompressionRequested Code = "wsman.compression-unsupported"
	CodeEncodingLimit        Code = "wsman.encoding-limit"

	CodeAuthRequired          Code = "identity.authentication-required"
	CodeBasicRequired         Code = "identity.basic-auth-required"
	CodeLogonFailed           Code = "identity.logon-failed"
	CodeAccountLocked         Code = "identity.account-locked"
	CodePasswordAuthDisabled  Code = "identity.password-auth-disabled"
	CodeTokenExpired          Code = "identity.token-expired"
	CodeTokenInvalid          Code = "identity.token-invalid"
	CodeTokenWrongTenant      Code = "identity.token-wrong-tenant"
	CodeTokenUserMismatch     Code = "identity.token-user-mismatch"
	CodeProviderUnreachable   Code = "identity.provider-unreachable"
	CodeIdentityUnreachable   Code = "identity.service-unreachable"
	CodeSignInUnavailable     Code = "identity.sign-in-unavailable"
	CodeInvalidGrant          Code = "identity.invalid-grant"
	CodeInvalidClient         Code = "identity.invalid-client"
	CodeRefreshTokenReused    Code = "identity.refresh-token-reused"
	CodeAuthorizationPending  Code = "identity.authorization-pending"
	CodeDeviceCodeExpired     Code = "identity.device-code-expired"
	CodeUnsupportedGrant      Code = "identity.unsupported-grant-type"
	CodeInvalidRequest        Code = "identity.invalid-request"
	CodeSlowDown              Code = "identity.slow-down"
	CodeTokenCacheUnreadable  Code = "identity.token-cache-unreadable"
	CodeInteractiveRequired   Code = "identity.interactive-sign-in-required"
	CodeFederationMisconfig   Code = "identity.federation-misconfigured"
	CodeFederatedTokenInvalid Code = "identity.federated-token-invalid"
	CodeSignInThrottled       Code = "identity.sign-in-throttled"
	CodeSignInBusy            Code = "identity.sign-in-busy"
	CodeTooManyPending        Code = "identity.too-many-pending"

	CodeNoAdminRole          Code = "admission.no-admin-role"
	CodeTenantAccessDisabled Code = "admission.tenant-access-disabled"
	CodeUserQuotaExceeded    Code = "admission.user-quota-exceeded"
	CodeTenantQuotaExceeded  Code = "admission.tenant-quota-exceeded"
	CodeCreationRateExceeded Code = "admission.creation-rate-exceeded"
	CodeLifetimeReached      Code = "admission.session-lifetime-reached"
	CodeIdleTimeoutReached   Code = "admission.session-idle-timeout"
	CodeSessionRemoved       Code = "admission.session-removed"
	CodeTenantNotFound       Code = "admission.tenant-not-found"
	CodeForbidden            Code = "admission.forbidden"

	CodeProtocolVersion      Code = "psrp.protocol-version"
	CodeUnknownConfiguration Code = "psrp.unknown-configuration"
	CodeBadFragment          Code = "psrp.bad-fragment"
	CodeBadMessage           Code = "psrp.bad-message"
	CodeSecureString         Code = "psrp.secure-string-unsupported"
	CodePoolBroken           Code = "psrp.runspace-pool-broken"
	CodePartialBudget        Code = "psrp.partial-budget-exceeded"

	CodeCommandNotFound     Code = "engine.command-not-found"
	CodeLanguageNotAllowed  Code = "engine.language-not-allowed"
	CodeParseError          Code = "engine.parse-error"
	CodeParameterNotFound   Code = "engine.parameter-not-found"
	CodeAmbiguousParameter  Code = "engine.ambiguous-parameter"
	CodeParameterBinding    Code = "engine.parameter-binding"
	CodeMissingMandatory    Code = "engine.missing-mandatory-parameter"
	CodeParameterValidation Code = "engine.parameter-validation"
	CodeAmbiguousParamSet   Code = "engine.ambiguous-parameter-set"
	CodePositionalNotFound  Code = "engine.positional-parameter-not-found"
	CodeOSProcessRefused    Code = "engine.os-process-refused"
	CodeObjectNotFound      Code = "engine.object-not-found"
	CodeParameterDenied     Code = "engine.parameter-denied"
	CodeValueDenied         Code = "engine.parameter-value-denied"
	CodePipelineStopped     Code = "engine.pipeline-stopped"
	CodeInvalidOperation    Code = "engine.invalid-operation"
	CodeLastAdmin           Code = "engine.last-administrator"
	CodeInvalidFilter       Code = "engine.invalid-filter"
	CodeMissingArgument     Code = "engine.missing-argument"
	CodeInputNotBound       Code = "engine.input-not-bound"
	CodeOutputLimit         Code = "engine.output-limit"
	CodeConfirmNeedsHost    Code = "engine.confirm-needs-host"
	CodeConfirmFailed       Code = "engine.confirm-failed"

	CodeBackendNotFound    Code = "module.object-not-found"
	CodeBackendDenied      Code = "module.permission-denied"
	CodeBackendConflict    Code = "module.resource-exists"
	CodeBackendInvalid     Code = "module.invalid-argument"
	CodeBackendBusy        Code = "module.backend-busy"
	CodeBackendUnreachable Code = "module.backend-unreachable"
	CodeBackendFailed      Code = "module.backend-failed"
	CodeBackendBadResponse Code = "module.bad-response"

	CodeConnectFailed      Code = "client.connect-failed"
	CodeTLSUntrusted       Code = "client.tls-untrusted"
	CodeClientTooOld       Code = "client.version-too-old"
	CodeExecutionPolicy    Code = "client.execution-policy"
	CodePowerShellVersion  Code = "client.powershell-version"
	CodeWinRMBasicDisabled Code = "client.winrm-basic-disabled"
	CodeTrustedHosts       Code = "client.trustedhosts-missing"
	CodeClockSkew          Code = "client.clock-skew"
	CodeCommandInterrupted Code = "client.command-interrupted"
	CodeNotListening       Code = "client.not-listening"
	CodeDNSFailed          Code = "client.dns-failed"
	CodeConnectTimeout     Code = "client.connect-timeout"
	CodeTLSNameMismatch    Code = "client.tls-name-mismatch"
	CodeTLSExpired         Code = "client.tls-expired"
	CodeHTTPError          Code = "client.http-error"
)

const (
	sender   = "s:Sender"
	receiver = "s:Receiver"
)

// Win32 and WS-Management error codes used in WSManFault details.
const (
	wsmanAccessDenied        = 5
	wsmanInvalidParameter    = 87
	wsmanInvalidURI          = 0x80338002
	wsmanHeaderRequired      = 0x80338011
	wsmanActionNotSupported  = 0x80338013
	wsmanEnvelopeTooLarge    = 0x80338026
	wsmanInvalidSOAPBody     = 0x80338027
	wsmanOperationTimedOut   = 0x80338029
	wsmanEncodingLimit       = 0x80338035
	wsmanInvalidSelectors    = 0x8033805B
	wsmanQuotaMaxShells      = 0x803381A5
	wsmanQuotaMaxOperations  = 0x803381A6
	wsmanShellDisconnected   = 0x803381C4
	wsmanMaxCommandsPerShell = 0x803381E9
	wsmanMustUnderstand      = 0x80338010
	wsmanPSProtocolVersion   = 0x80540BC5
	wsmanPluginFailure       = 0x80338003
	wsmanEndpointUnavailable = 0x80338014
)

// catalog holds the codes in use, retired the retired ones.
var catalog, retired = buildCatalog(entries)

func buildCatalog(list []Entry) (live, retired map[Code]Entry) {
	live, retired = make(map[Code]Entry, len(list)), make(map[Code]Entry)
	for _, e := range list {
		if e.Retired != "" {
			retired[e.Code] = e
		} else {
			live[e.Code] = e
		}
	}
	return live, retired
}

// Retired returns the retired catalog entries, sorted by code: codes once
// published that psgate no longer raises and never reuses.
func Retired() []Entry {
	out := make([]Entry, 0, len(retired))
	for _, e := range retired {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(string(a.Code), string(b.Code)) })
	return out
}
