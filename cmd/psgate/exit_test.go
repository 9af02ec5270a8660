package main

import (
	"errors"
	"testing"

	"github.com/psgate/psgate"
)

// psgate run's exit status says which side failed, so scripts can tell a
// command that ran and failed from a connection or sign-in problem.
func TestExitCodeByArea(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{psgate.E(psgate.CodeParameterValidation, nil), exitCommand},
		{psgate.E(psgate.CodeBackendNotFound, nil), exitCommand}, // the operator's backend answered
		{psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": "a@b"}), exitAuth},
		{psgate.E(psgate.CodeShellNotFound, nil), exitConnection},
		{psgate.E(psgate.CodeUserQuotaExceeded, nil), exitAdmission},
		{psgate.E(psgate.CodeInternal, nil), exitInternal},
		{errors.New("not a catalog error"), exitUsage},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
