package format

import (
	"testing"

	"github.com/psgate/psgate/psobject"
)

func commandObject(typeName, ct, name, display string) *psobject.Object {
	props := []psobject.Property{
		psobject.P("CommandType", psobject.Enum{Type: "System.Management.Automation.CommandTypes", Name: ct, Value: 8}),
		psobject.P("Name", name),
		psobject.P("Version", psobject.Version("0.1.0")),
		psobject.P("Source", "psgate"),
	}
	if display != "" {
		props = append(props, psobject.P("DisplayName", display))
	}
	o := psobject.New([]string{typeName, "System.Management.Automation.CommandInfo", "System.Object"}, props...)
	o.DisplayProps = []string{"CommandType", "Name", "Version", "Source"}
	return o
}

// Get-Command output as PowerShell's CommandInfo view prints it: fixed
// widths 15/50/10, everything left-aligned (a generated table would
// right-align the CommandType enum), aliases as "name -> target" in the
// same table as the cmdlets, and the same for deserialized objects.
func TestCommandInfoView(t *testing.T) {
	objs := []any{
		commandObject("System.Management.Automation.AliasInfo", "Alias", "select", "select -> Select-Object"),
		commandObject("System.Management.Automation.CmdletInfo", "Cmdlet", "Get-CsOnlineUser", ""),
		commandObject("Deserialized.System.Management.Automation.CmdletInfo", "Cmdlet", "Get-CsTenant", ""),
	}
	want := "\n" +
		"CommandType     Name                                               Version    Source\n" +
		"-----------     ----                                               -------    ------\n" +
		"Alias           select -> Select-Object                            0.1.0      psgate\n" +
		"Cmdlet          Get-CsOnlineUser                                   0.1.0      psgate\n" +
		"Cmdlet          Get-CsTenant                                       0.1.0      psgate\n" +
		"\n\n"
	if got := Default(objs, Options{Newline: "\n", Width: 120}); got != want {
		t.Errorf("Get-Command view:\n%q\nwant\n%q", got, want)
	}
	// Format-Table without properties uses the same view; with
	// properties, the columns asked for.
	if got := Table(objs, nil, Options{Newline: "\n", Width: 120}); got != want {
		t.Errorf("Format-Table on commands:\n%q\nwant\n%q", got, want)
	}
	if got := Table(objs[1:2], []string{"Name"}, Options{Newline: "\n", Width: 120}); got != "\nName\n----\nGet-CsOnlineUser\n\n\n" {
		t.Errorf("Format-Table Name on a command: %q", got)
	}
}
