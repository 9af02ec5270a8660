// Package builtin holds psgate's built-in commands: PowerShell's own
// utility cmdlets (Select-Object, Where-Object, Sort-Object,
// Measure-Object, Group-Object, Format-Table, Format-List, Out-String,
// Write-Output and the other Write-* cmdlets, Get-Command, Get-Help,
// Invoke-Expression, Get-Date, Start-Sleep, TabExpansion2...). Register
// adds them to an engine.Catalog, next to a service's cmdlets.
//
// They are written against package engine's public API only, the way
// package cmdlets writes a tenant's cmdlets: the Invocation's methods, the
// runtime's value conversions (engine.ToText, engine.Order...) and its
// error records. None of them needs to stay in the runtime: the one thing
// the pipeline itself runs, a script element of a structured pipeline,
// is not a command a catalog lists.
package builtin
