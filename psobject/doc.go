// Package psobject is psgate's model of PowerShell objects: what cmdlets
// produce, what pipelines pass along, what the engine formats as text and
// what the clixml package serializes for PSRP clients.
//
// An Object has type names (most derived first), ordered properties and an
// optional ToString text. Property values are restricted to a fixed set of
// Go types (see Value) so that every consumer can handle all of them.
package psobject
