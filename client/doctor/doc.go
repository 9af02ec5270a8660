// Package doctor diagnoses a connector's path to a psgate gateway: each
// Check walks one link of the chain (DNS, TCP, TLS, HTTP, identity service,
// sign-in, admin role, quota usage, and on Windows the stock PowerShell
// client's settings) and reports passed, failed or skipped with the catalog
// code, message and resolution of a failure. Run runs checks in parallel,
// skipping a check whose prerequisites failed.
package doctor
