package loadgen

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
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

// ProcCPU returns the CPU time, user and system, that process pid has
// used (Linux /proc/PID/stat; its clock ticks are USER_HZ, 100 a second
// on every Linux architecture Go supports); false when it cannot be read.
func ProcCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted from the last ')' start with the state (field 3).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[utime], 10, 64)
	s, err2 := strconv.ParseInt(f[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const tick = time.Second / 100
	return time.Duration(u+s) * tick, true
}

// RequireLoopback refuses a target that is not a plain-HTTP loopback
// address: the load generators drive only a gateway on this machine.
func RequireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("-url %s: want the plain-HTTP loopback listener (http://127.0.0.1:PORT)", raw)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %s: only a loopback address (127.0.0.1, ::1) may be a target", raw)
	}
	return nil
}
