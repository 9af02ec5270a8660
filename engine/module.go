package engine

import (
	"strings"
)

// ModuleName is the module psgate's commands report as their source.
const ModuleName = "psgate"

// UnqualifiedName strips a module qualifier (psgate\Get-CsTenant) when it
// names a module psgate provides; ok reports that it did.
func UnqualifiedName(name string) (unqualified string, ok bool) {
	i := strings.LastIndexByte(name, '\\')
	if i < 0 {
		return name, false
	}
	switch strings.ToLower(name[:i]) {
	case "psgate", "microsoft.powershell.utility", "microsoft.powershell.core", "microsoft.powershell.management":
		return name[i+1:], true
	}
	return name, false
}
