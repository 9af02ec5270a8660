// Package interop holds psgate's end-to-end tests: a real server on
// loopback driven by real third-party clients — pywinrm and pypsrp
// (Python, installed by the test command), masterzen/winrm and
// go-psrpcore (Go). It has no non-test code besides this comment.
package interop
