// Package engine runs restricted PowerShell pipelines: psgate's command
// engine, in the spirit of PowerShell's NoLanguage mode and JEA.
//
// A Catalog holds commands (cmdlets written in Go, with parameter metadata).
// A Runspace, created per shell for one caller, parses command lines in a
// small command-only syntax, binds parameters with PowerShell's rules, and
// runs pipelines, delivering objects and records to a Sink. An Authorizer
// decides which commands and parameters the caller may see and use.
//
// The engine never starts operating-system processes and has no script
// language: no variables, script blocks, expressions or assignments.
package engine
