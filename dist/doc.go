// Package dist holds what installs psgate as an operating-system service:
// the systemd unit and its sysusers.d entry in dist/systemd, described in
// docs/operations.md. It has no Go code to import; its test checks the
// files with systemd's own tools (systemd-analyze verify and security,
// systemd-sysusers) and runs the unit's command line with the psgate
// binary built from this checkout.
package dist
