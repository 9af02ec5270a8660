package syntax

import (
	"strings"
)

// This file recognises names of operating-system programs, which psgate
// never runs: the parser refuses `& program` by name.

// IsProgram reports whether a command name designates an operating-system
// program or script file rather than a cmdlet: a path, a name with an
// extension (cmd.exe) or a well-known program name (whoami, powershell).
func IsProgram(name string) bool {
	if strings.ContainsAny(name, `/\`) {
		return true
	}
	lower := strings.ToLower(name)
	if dot := strings.LastIndexByte(lower, '.'); dot >= 0 && dot < len(lower)-1 {
		return true
	}
	return osPrograms[lower]
}

// osPrograms are names of operating-system programs people try to run.
var osPrograms = map[string]bool{
	"cmd": true, "command": true, "powershell": true, "powershell_ise": true, "pwsh": true,
	"notepad": true, "bash": true, "sh": true, "zsh": true, "wsl": true, "wscript": true,
	"cscript": true, "mshta": true, "rundll32": true, "regsvr32": true, "net": true,
	"netsh": true, "reg": true, "sc": true, "schtasks": true, "tasklist": true,
	"taskkill": true, "whoami": true, "ipconfig": true, "ping": true, "certutil": true,
	"bitsadmin": true, "msiexec": true, "explorer": true, "curl": true, "wget": true,
	"python": true, "python3": true, "perl": true, "ruby": true, "node": true,
	"hostname": true, "systeminfo": true, "winrm": true, "wmic": true, "nslookup": true,
	"tracert": true, "robocopy": true, "xcopy": true, "calc": true, "mmc": true,
	"regedit": true, "osql": true, "sqlcmd": true, "ssh": true, "scp": true,
}
