// Package gateway is psgate's WS-Management endpoint: an http.Handler that
// authenticates every request, decodes the SOAP envelope with size limits,
// routes the action to the shell it addresses (WinRS command shells and,
// through the psrp plugin, PowerShell runspace pools) and turns every
// failure into the WS-Man fault of its catalog code.
//
// The gateway wires components together but implements none of them: WS-Man
// encoding lives in package wsman, commands run in package engine, and who
// may open a shell is decided by the Admitter it is given.
package gateway
