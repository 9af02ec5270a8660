package main

import (
	"strings"
	"testing"
)

// A retired code, which an older server may still send, is explained as
// retired rather than refused as unknown.
func TestErrorsExplainsRetiredCode(t *testing.T) {
	out, errOut, status := psgateRun(t, "", "errors", "identity.token-revoked")
	if status != exitOK || !strings.HasPrefix(out, "identity.token-revoked  Token revoked (retired)\n  retired: ") {
		t.Fatalf("psgate errors identity.token-revoked: %d %q %s", status, out, errOut)
	}
	out, _, _ = psgateRun(t, "", "errors", "identity")
	if strings.Contains(out, "token-revoked") {
		t.Errorf("the identity area lists the retired code:\n%s", out)
	}
}
