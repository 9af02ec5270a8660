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
//
// The engine is three packages, each depending only on the one before:
//
//   - package syntax is the language: the lexer, parser and AST of
//     command lines and of -Filter expressions. It is pure (standard
//     library only) and reports *syntax.Error values.
//   - package engine, this one, is the runtime: catalog, binder, value
//     conversions, pipelines, filter evaluation, runspaces and error
//     records. Parse and ParseFilter turn the language's results and
//     refusals into runtime values and catalog errors.
//   - package builtin holds PowerShell's utility commands (Select-Object,
//     Where-Object, Get-Command, Format-Table...), written against this
//     package's public API as any service's cmdlets are; builtin.Register
//     adds them to a Catalog.
//
// # Command lines
//
// Parse accepts commands with named (-Name value, -Name:value, -Switch) and
// positional arguments, pipelines, literal values (quoted strings with
// PowerShell's quoting rules but no $ expansion, bare words, numbers with
// kb/mb/gb multipliers, $true, $false, $null, comma lists, @(...) and
// (...) of literals, here-strings), statements separated by ; or newlines,
// comments and backtick continuation. Everything else is refused with
// psgate.CodeLanguageNotAllowed naming the construct; syntax errors are
// psgate.CodeParseError with the line and column.
//
// # Binding
//
// Parameters bind as in PowerShell: case-insensitive names, unambiguous
// prefixes, aliases, positions within the resolved parameter set,
// mandatory checks (no prompting), type conversion and validation,
// pipeline input by value and by property name, and the common parameters
// (-Verbose, -ErrorAction, -WhatIf...). Binding failures are terminating
// errors with PowerShell's error ids and messages.
//
// # Running
//
// The commands of a pipeline run as a chain of coroutines on the caller's
// goroutine: each object a command writes is handed to the next command
// before the first goes on, nothing is buffered, and a command that stops
// reading (Select-Object -First) makes its upstream stop. Cancelling the
// context stops the pipeline with psgate.CodePipelineStopped; commands are
// expected to return promptly when their context is done.
//
// # For commands
//
// Besides the Invocation's methods, commands written outside the runtime
// use PowerShell's value semantics from here: Compare and Operator
// (comparison operators), ParseFilter (the "Property -op value" filter
// language of -Filter parameters), CompileWildcard, ToText, ToDouble,
// ToInteger, IsTrue, AsList, TypeName and Order (conversions and
// ordering), and NewErrorRecord, CommandNotFoundError and LanguageError
// (error records as the runtime builds them).
package engine
