package doctor

import (
	"context"
	"strings"

	"github.com/psgate/psgate"
)

// System reads what the seed document checks on Windows for stock
// PowerShell clients. DefaultSystem reads the real machine on Windows;
// tests fill it in.
type System interface {
	// ExecutionPolicy is Get-ExecutionPolicy's answer, e.g. "Restricted".
	ExecutionPolicy(ctx context.Context) (string, error)
	// PowerShellVersion is $PSVersionTable.PSVersion, e.g. "5.1.19041.1".
	PowerShellVersion(ctx context.Context) (string, error)
	// WinRMClientBasic reports whether the WinRM client allows Basic
	// authentication, and where the setting comes from ("configuration"
	// or "group policy").
	WinRMClientBasic(ctx context.Context) (allowed bool, source string, err error)
	// TrustedHosts is the WinRM client's TrustedHosts list.
	TrustedHosts(ctx context.Context) ([]string, error)
}

// Windows check names.
const (
	CheckExecutionPolicy = "execution policy"
	CheckPSVersion       = "PowerShell version"
	CheckWinRMBasic      = "WinRM client Basic authentication"
	CheckTrustedHosts    = "TrustedHosts"
)

// windowsChecks are the checks of the stock client's settings; none when
// sys is nil.
func windowsChecks(sys System, d *diag) []Check {
	if sys == nil {
		return nil
	}
	return []Check{
		{Name: CheckExecutionPolicy, Run: func(ctx context.Context) Result {
			p, err := sys.ExecutionPolicy(ctx)
			if err != nil {
				return Skip("cannot read the execution policy: " + err.Error())
			}
			switch strings.ToLower(strings.TrimSpace(p)) {
			case "restricted", "allsigned":
				return Fail(psgate.E(psgate.CodeExecutionPolicy, psgate.Args{"path": `C:\Program Files\Common Files\psgate\psgate.psm1`}))
			}
			return Pass("execution policy " + p + " allows the connector module")
		}},
		{Name: CheckPSVersion, Run: func(ctx context.Context) Result {
			v, err := sys.PowerShellVersion(ctx)
			if err != nil {
				return Skip("cannot read the PowerShell version: " + err.Error())
			}
			if !versionAtLeast(v, 5, 1) {
				return Fail(psgate.E(psgate.CodePowerShellVersion, psgate.Args{"version": v, "path": "psgate", "required": "5.1"}))
			}
			return Pass("PowerShell " + v)
		}},
		{Name: CheckWinRMBasic, Run: func(ctx context.Context) Result {
			ok, source, err := sys.WinRMClientBasic(ctx)
			if err != nil {
				return Skip("cannot read the WinRM client configuration: " + err.Error())
			}
			if !ok {
				return Fail(psgate.E(psgate.CodeWinRMBasicDisabled, psgate.Args{"source": source}))
			}
			return Pass("the WinRM client allows Basic authentication")
		}},
		{Name: CheckTrustedHosts, Run: func(ctx context.Context) Result {
			if d.tls {
				return Skip("the endpoint uses HTTPS")
			}
			hosts, err := sys.TrustedHosts(ctx)
			if err != nil {
				return Skip("cannot read TrustedHosts: " + err.Error())
			}
			for _, h := range hosts {
				if h == "*" || strings.EqualFold(h, d.host) {
					return Pass(d.host + " is in TrustedHosts")
				}
			}
			return Fail(psgate.E(psgate.CodeTrustedHosts, psgate.Args{"host": d.host}))
		}},
	}
}

// versionAtLeast compares the major.minor of a dotted version.
func versionAtLeast(v string, major, minor int) bool {
	var ma, mi int
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return false
	}
	for _, c := range parts[0] {
		if c < '0' || c > '9' {
			return false
		}
		ma = ma*10 + int(c-'0')
	}
	for _, c := range parts[1] {
		if c < '0' || c > '9' {
			return false
		}
		mi = mi*10 + int(c-'0')
	}
	return ma > major || ma == major && mi >= minor
}
