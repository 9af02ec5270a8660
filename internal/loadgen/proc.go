package loadgen

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
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
