package format

import (
	"strings"

	"github.com/psgate/psgate/psobject"
)

// tableView is a table layout from PowerShell's own format data for a set
// of types: labelled columns of fixed widths (0: the rest of the line),
// all left-aligned as in a defined view, where a generated table would
// right-align numbers and enums. Objects of any type of the view share one
// table, as they do in PowerShell.
type tableView struct {
	name string
	cols []column
}

// commandInfoView is PowerShell's "CommandInfo" table view for AliasInfo,
// CmdletInfo, FunctionInfo and the other command types
// (PowerShellCore_format_ps1xml.cs in PowerShell's source): CommandType in
// 15 cells, Name in 50 (an alias shows its DisplayName, "name -> target"),
// Version in 10 and Source in the rest.
var commandInfoView = tableView{name: "CommandInfo", cols: []column{
	{label: "CommandType", fixed: 15},
	{label: "Name", fixed: 50, pick: aliasDisplayName},
	{label: "Version", fixed: 10},
	{label: "Source"},
}}

// commandInfoTypes are the type names commandInfoView applies to.
var commandInfoTypes = []string{
	"System.Management.Automation.AliasInfo",
	"System.Management.Automation.ApplicationInfo",
	"System.Management.Automation.CmdletInfo",
	"System.Management.Automation.ExternalScriptInfo",
	"System.Management.Automation.FilterInfo",
	"System.Management.Automation.FunctionInfo",
	"System.Management.Automation.ScriptInfo",
}

// viewFor returns the table view PowerShell defines for o's most specific
// type, or nil. A deserialized object ("Deserialized." type names, as a
// PSRP client receives them) gets the view of its original type.
func viewFor(o *psobject.Object) *tableView {
	if len(o.TypeNames) == 0 {
		return nil
	}
	tn := strings.TrimPrefix(o.TypeNames[0], "Deserialized.")
	for _, t := range commandInfoTypes {
		if strings.EqualFold(tn, t) {
			return &commandInfoView
		}
	}
	return nil
}

// aliasDisplayName is the Name column of the CommandInfo view: an alias's
// DisplayName, any other command's Name.
func aliasDisplayName(o *psobject.Object) any {
	if ct, _ := o.Get("CommandType"); psobject.Format(ct) == "Alias" {
		if dn, ok := o.Get("DisplayName"); ok {
			return dn
		}
	}
	v, _ := o.Get("Name")
	return v
}
