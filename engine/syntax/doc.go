// Package syntax is psgate's command language, as regexp/syntax is
// regexp's: the lexer, parser and abstract syntax of the command lines a
// runspace runs, and of the filters -Filter parameters take. It knows
// nothing about commands, values at run time or errors shown to users;
// package engine, the runtime, turns its results into those.
//
// The command language is PowerShell without the script language: commands
// with named and positional arguments, pipelines, literal values (quoted
// strings without $ expansion, bare words, numbers, $true, $false, $null,
// comma lists, @(...) and (...) of literals, here-strings), statements,
// comments and line continuation. Parse refuses everything else with an
// *Error of kind KindNotAllowed naming the construct, so that users learn
// what they wrote that psgate does not run.
//
// The filter language is the expression subset of PowerShell that -Filter
// parameters take: `Property -op value` comparisons joined by -and and
// -or, with parentheses. ParseFilter reads it with the scanner the command
// language uses (scan.go): the same quoted strings, numbers, dashes and
// operator table (ParseOp).
//
// The package is pure: standard library only, no goroutines, clock or I/O
// (TestPure).
package syntax
