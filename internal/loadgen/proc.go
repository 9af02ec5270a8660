package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// ProcUsage reads a process's VmRSS, VmHWM and descriptor count from
// /proc (Linux); what it cannot read stays 0.
func ProcUsage(pid int) Usage {
	var u Usage
	dir := "/proc/" + strconv.Itoa(pid)
	if f, err := os.Open(dir + "/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				u.RSSKB = n
			case "VmHWM":
				u.HWMKB = n
			}
		}
		f.Close()
	}
	if fds, err := os.ReadDir(dir + "/fd"); err == nil {
		u.FDs = int64(len(fds))
	}
	return u
}
