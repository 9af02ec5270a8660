package wsman

import "strings"

// XML namespaces used on the wire ([MS-WSMV] §2.2.1).
const (
	NsSOAP        = "http://www.w3.org/2003/05/soap-envelope"
	NsSOAP11      = "http://schemas.xmlsoap.org/soap/envelope/" // recognised only to reject it
	NsAddressing  = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NsWSMan       = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	NsWSManMS     = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	NsShell       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	NsTransfer    = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	NsEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
	NsEventing    = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
	NsWSManFault  = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	NsConfig      = "http://schemas.microsoft.com/wbem/wsman/1/config"
	NsIdentity    = "http://schemas.dmtf.org/wbem/wsman/identify/1/wsmanidentity.xsd"
	// NsPowerShell holds the PSRP payload elements creationXml, connectXml
	// and connectResponseXml.
	NsPowerShell = "http://schemas.microsoft.com/powershell"
	// NsPsgateFault holds psgate's machine-readable fault detail (pg:Error).
	NsPsgateFault = "urn:psgate:fault"
	// NsXML is the namespace bound to the reserved xml: prefix.
	NsXML = "http://www.w3.org/XML/1998/namespace"
)

// Request action URIs.
const (
	ActionCreate     = NsTransfer + "/Create"
	ActionDelete     = NsTransfer + "/Delete"
	ActionGet        = NsTransfer + "/Get"
	ActionPut        = NsTransfer + "/Put"
	ActionCommand    = NsShell + "/Command"
	ActionSend       = NsShell + "/Send"
	ActionReceive    = NsShell + "/Receive"
	ActionSignal     = NsShell + "/Signal"
	ActionDisconnect = NsShell + "/Disconnect"
	ActionReconnect  = NsShell + "/Reconnect"
	ActionConnect    = NsShell + "/Connect"
	ActionEnumerate  = NsEnumeration + "/Enumerate"
	ActionPull       = NsEnumeration + "/Pull"
	ActionRelease    = NsEnumeration + "/Release"
)

// Response action URIs.
const (
	ActionCreateResponse     = NsTransfer + "/CreateResponse"
	ActionDeleteResponse     = NsTransfer + "/DeleteResponse"
	ActionGetResponse        = NsTransfer + "/GetResponse"
	ActionPutResponse        = NsTransfer + "/PutResponse"
	ActionCommandResponse    = NsShell + "/CommandResponse"
	ActionSendResponse       = NsShell + "/SendResponse"
	ActionReceiveResponse    = NsShell + "/ReceiveResponse"
	ActionSignalResponse     = NsShell + "/SignalResponse"
	ActionDisconnectResponse = NsShell + "/DisconnectResponse"
	ActionReconnectResponse  = NsShell + "/ReconnectResponse"
	ActionConnectResponse    = NsShell + "/ConnectResponse"
	ActionEnumerateResponse  = NsEnumeration + "/EnumerateResponse"
	ActionPullResponse       = NsEnumeration + "/PullResponse"
	ActionReleaseResponse    = NsEnumeration + "/ReleaseResponse"
	// ActionFault is the action of every WS-Management fault.
	ActionFault = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
)

// Resource URIs.
const (
	// ResourceCmd is the WinRS cmd.exe shell (pywinrm, masterzen, pypsrp WinRS).
	ResourceCmd = NsShell + "/cmd"
	// ResourceShell addresses shells generically (Get, Enumerate).
	ResourceShell = NsShell
	// ResourceShellCommand addresses the commands of a shell (Enumerate).
	ResourceShellCommand = NsShell + "/Command"
	// ResourceConfig is the WinRM configuration (pypsrp update_max_payload_size).
	ResourceConfig = NsConfig
	// PowerShellResourcePrefix starts every PSRP resource URI; the rest is the
	// session configuration name (Microsoft.PowerShell, Microsoft.Exchange…).
	PowerShellResourcePrefix = "http://schemas.microsoft.com/powershell/"
)

// AddressAnonymous is the WS-Addressing anonymous role, sent as a:To in
// every response.
const AddressAnonymous = NsAddressing + "/role/anonymous"

// Signal codes ([MS-WSMV] §2.2.4.38, [MS-PSRP] §3.2.5.3.9). Compare them with
// IsTerminateSignal and IsStopSignal, never with ==: clients differ in case.
const (
	SignalTerminate = NsShell + "/signal/terminate"
	SignalCtrlC     = NsShell + "/signal/ctrl_c"
	SignalCtrlBreak = NsShell + "/signal/ctrl_break"
	// PSSignalCrtlC is what PowerShell sends to stop a pipeline; the typo is
	// real and in the spec.
	PSSignalCrtlC = "powershell/signal/crtl_c"
	// PSSignalCtrlC is pypsrp's spelling of the pipeline stop signal.
	PSSignalCtrlC = "powershell/signal/ctrl_c"
)

// CommandState URIs of rsp:CommandState/@State.
const (
	StateDone    = NsShell + "/CommandState/Done"
	StateRunning = NsShell + "/CommandState/Running"
	StatePending = NsShell + "/CommandState/Pending"
)

// IsTerminateSignal reports whether code is the WinRS terminate signal, in
// any letter case (pypsrp sends ".../signal/Terminate").
func IsTerminateSignal(code string) bool {
	return strings.EqualFold(strings.TrimSpace(code), SignalTerminate)
}

// IsStopSignal reports whether code asks to interrupt the running command or
// pipeline: PowerShell's "powershell/signal/crtl_c", pypsrp's
// "powershell/signal/ctrl_c" (also accepted under the
// "http://schemas.microsoft.com/" prefix) and the WinRS ctrl_c and
// ctrl_break signals. The comparison ignores letter case.
func IsStopSignal(code string) bool {
	c := strings.TrimSpace(code)
	if hasPrefixFold(c, msSchemaPrefix+"powershell/") {
		c = c[len(msSchemaPrefix):]
	}
	for _, s := range [...]string{PSSignalCrtlC, PSSignalCtrlC, SignalCtrlC, SignalCtrlBreak} {
		if strings.EqualFold(c, s) {
			return true
		}
	}
	return false
}

const msSchemaPrefix = "http://schemas.microsoft.com/"

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// IsPowerShellResource reports whether uri addresses a PowerShell session
// configuration (PSRP) rather than a WinRS shell. The scheme and host part
// compare case-insensitively, as WinRM does.
func IsPowerShellResource(uri string) bool {
	_, ok := ConfigurationName(uri)
	return ok
}

// ConfigurationName returns the session configuration name of a PowerShell
// resource URI: "Microsoft.PowerShell" for
// "http://schemas.microsoft.com/powershell/Microsoft.PowerShell".
func ConfigurationName(uri string) (string, bool) {
	u := strings.TrimSpace(uri)
	if len(u) == len(PowerShellResourcePrefix) || !hasPrefixFold(u, PowerShellResourcePrefix) {
		return "", false
	}
	return u[len(PowerShellResourcePrefix):], true
}

// IsConfigResource reports whether uri addresses WinRM's configuration.
func IsConfigResource(uri string) bool {
	return strings.EqualFold(strings.TrimSpace(uri), ResourceConfig)
}
