//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

// -Confirm on psgate connect's terminal: PowerShell's prompt, its help,
// No, Yes, and Ctrl+C at the prompt stopping the command.
func TestConnectConfirmPromptOnTerminal(t *testing.T) {
	gw := startGateway(t)
	term := runOnPTY(t, "connect")
	pts, done := term.pts, term.done
	waitFor, typeKeys := term.waitFor, term.typeKeys
	const choices = `[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is "Y"): `

	waitFor("[contoso] PS> ")
	typeKeys("Set-CsUser -Identity alice@contoso.test -Title Nope -Confirm\r")
	waitFor("Confirm\r\nAre you sure you want to perform this action?\r\n" +
		`Performing the operation "Set-CsUser" on target "alice@contoso.test".` + "\r\n" + choices)
	typeKeys("?\r")
	waitFor("Y - Continue with only the next step of the operation.\r\n" +
		"A - Continue with all the steps of the operation.\r\n" +
		"N - Skip this operation and proceed with the next operation.\r\n" +
		"L - Skip this operation and all subsequent operations.\r\n" + choices)
	typeKeys("maybe\r") // not a choice: asked again
	waitFor(choices)
	typeKeys("n\r")
	waitFor("[contoso] PS> ")

	typeKeys("Set-CsUser -Identity alice@contoso.test -Title Yep -Confirm\r")
	waitFor(choices)
	typeKeys("\r") // the default, Yes
	waitFor("[contoso] PS> ")

	typeKeys("Set-CsUser -Identity alice@contoso.test -Title Stop -Confirm\r")
	waitFor(choices)
	typeKeys("\x03") // Ctrl+C at the prompt stops the command
	waitFor("engine.pipeline-stopped")
	waitFor("[contoso] PS> ")

	typeKeys("Get-CsOnlineUser -Identity alice@contoso.test | Select-Object Title\r")
	waitFor("Yep")
	waitFor("[contoso] PS> ")
	typeKeys("exit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connect did not end after exit")
	}
	pts.Close()
	if n := gw.Gateway().ShellCount(); n != 0 {
		t.Errorf("%d shells left open", n)
	}
}

// psgate run has no host to answer a prompt: -Confirm is refused with
// the catalog's error and its fix, and nothing changes.
func TestRunConfirmIsRefused(t *testing.T) {
	startGateway(t)
	_, stderr, status := psgateRun(t, "", "run", "Set-CsUser -Identity alice@contoso.test -Title Refused -Confirm")
	if status == 0 || !strings.Contains(stderr, "engine.confirm-needs-host") || !strings.Contains(stderr, "-Confirm:$false") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
	stdout, _, _ := psgateRun(t, "", "run", "Get-CsOnlineUser -Identity alice@contoso.test | Select-Object Title")
	if strings.Contains(stdout, "Refused") {
		t.Errorf("the change was made: %s", stdout)
	}
}
