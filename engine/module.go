package engine

import (
	"strings"
)

// moduleQualified strips a module qualifier (psgate\Get-CsTenant) when it
// names a module psgate provides.
func moduleQualified(name string) (string, bool) {
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
