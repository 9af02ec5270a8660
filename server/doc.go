// Package server assembles a running psgate service from its parts: the
// store in the data directory, the identity service, the command engine and
// its cmdlets, the WS-Management gateway and the HTTP(S) listeners. `psgate
// serve` and the end-to-end tests use the same wiring.
package server
