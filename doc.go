// Package psgate holds psgate's domain vocabulary: the error type every
// user-facing failure is expressed in, and the catalog of stable error
// codes with their messages and resolutions.
//
// The catalog is the single source for what the gateway, the connector and
// `psgate doctor` print, and for docs/errors.md, which is generated from it.
// Package psgate depends on the standard library only.
package psgate
