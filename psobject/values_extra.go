package psobject

// ScriptBlock is the text of a PowerShell script block (a
// System.Management.Automation.ScriptBlock, serialized as <SBK>). Clients
// send script blocks as arguments (Where-Object -FilterScript, Invoke-Command
// -ArgumentList); psgate never runs them as code without a language mode
// that allows it.
type ScriptBlock string

// String returns the script text, as ScriptBlock.ToString does.
func (s ScriptBlock) String() string { return string(s) }
