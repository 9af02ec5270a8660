// Package wsman is psgate's WS-Management codec: it decodes WS-Man/WinRS
// request envelopes and encodes responses and SOAP faults in the exact shape
// real WinRM produces, so that pywinrm, pypsrp, masterzen/winrm, go-psrp and
// Windows PowerShell accept them.
//
// The package is pure: no network, file or clock access, no goroutines and
// no logging. Decode is bounded (size, depth and element-count limits, no
// DTDs) and never panics on hostile input; the Encode functions write
// directly into a byte slice without reflection, and their Append forms
// into a caller's reused buffer.
//
// Decode has two paths. scan.go reads the plain UTF-8 XML real clients send
// into the same element tree encoding/xml would build, at a fraction of the
// cost, and declines anything else; encoding/xml then handles the input and
// reports every error. FuzzFastDecode holds the two to the same result.
//
// References: DMTF DSP0226 (WS-Management), [MS-WSMV] (WinRS and Microsoft
// extensions), [MS-PSRP] §3 (PowerShell remoting over WS-Man) and psgate's
// protocol research digest (research/protocol.md §0-§4), whose numbered
// compatibility rules this package implements: RelatesTo echoed verbatim,
// the ShellId selector in the DMTF namespace, IdleTimeOut as PT<s>.<ms>S,
// ExitCode with every CommandState Done, and WinRM's fault layout.
//
// testdata/winrm holds responses recorded from real Windows Server by
// pypsrp's test suite; TestEncodeMatchesRealWinRM re-encodes them byte for
// byte.
package wsman
