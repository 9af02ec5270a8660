//go:build windows

package doctor

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// DefaultSystem reads this Windows machine through powershell.exe.
func DefaultSystem() System { return psSystem{} }

type psSystem struct{}

func (psSystem) run(ctx context.Context, script string) (string, error) {
	out, err := exec.CommandContext(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script).Output()
	if err != nil {
		return "", fmt.Errorf("doctor: powershell: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (s psSystem) ExecutionPolicy(ctx context.Context) (string, error) {
	return s.run(ctx, "Get-ExecutionPolicy")
}

func (s psSystem) PowerShellVersion(ctx context.Context) (string, error) {
	return s.run(ctx, "$PSVersionTable.PSVersion.ToString()")
}

func (s psSystem) WinRMClientBasic(ctx context.Context) (bool, string, error) {
	gp, err := s.run(ctx, `(Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WinRM\Client' -Name AllowBasic -ErrorAction SilentlyContinue).AllowBasic`)
	if err == nil && gp == "0" {
		return false, "group policy", nil
	}
	v, err := s.run(ctx, `(Get-Item WSMan:\localhost\Client\Auth\Basic).Value`)
	if err != nil {
		return false, "", err
	}
	return strings.EqualFold(v, "true"), "configuration", nil
}

func (s psSystem) TrustedHosts(ctx context.Context) ([]string, error) {
	v, err := s.run(ctx, `(Get-Item WSMan:\localhost\Client\TrustedHosts).Value`)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}
