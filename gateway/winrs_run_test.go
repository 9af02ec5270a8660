package gateway

import (
	"encoding/base64"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/psgate/psgate"
)

func encodeCommand(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestParseWinRSCommand(t *testing.T) {
	script := "$ProgressPreference = 'SilentlyContinue';Get-CsTenant | Format-List"
	tests := []struct {
		name    string
		command string
		args    []string
		want    winrsInvocation
	}{
		{"plain cmdlet (pywinrm run_cmd)", "Get-CsTenant", nil, winrsInvocation{script: "Get-CsTenant"}},
		{"arguments joined", "Get-CsOnlineUser", []string{"-Identity alice@contoso.test"}, winrsInvocation{script: "Get-CsOnlineUser -Identity alice@contoso.test"}},
		{"pywinrm run_ps", "powershell -encodedcommand " + encodeCommand("Get-CsTenant"), nil, winrsInvocation{script: "Get-CsTenant", powershell: true}},
		{"masterzen RunPSWithString", "powershell.exe -EncodedCommand " + encodeCommand(script), nil, winrsInvocation{script: script, powershell: true}},
		{"full path and options", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-enc", encodeCommand("Get-Date")}, winrsInvocation{script: "Get-Date", powershell: true}},
		{"-Command text", "pwsh", []string{"-NoLogo", "-Command", `"Get-CsTenant | Select-Object Name"`}, winrsInvocation{script: "Get-CsTenant | Select-Object Name", powershell: true}},
		{"script on stdin", "powershell", []string{"-Command", "-"}, winrsInvocation{fromStdin: true, powershell: true}},
		{"bare powershell reads stdin", "powershell.exe", nil, winrsInvocation{fromStdin: true, powershell: true}},
		{"trailing text is the command", "powershell", []string{"Get-CsTenant"}, winrsInvocation{script: "Get-CsTenant", powershell: true}},
		{"cmd is left to the engine to refuse", "cmd", []string{"/c", "dir"}, winrsInvocation{script: "cmd /c dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWinRSCommand(tt.command, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("parseWinRSCommand(%q, %q) = %+v, want %+v", tt.command, tt.args, got, tt.want)
			}
		})
	}
}

func TestParseWinRSCommandRefusals(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		code    psgate.Code
	}{
		{"powershell", []string{"-File", `C:\x.ps1`}, psgate.CodeOSProcessRefused},
		{"powershell", []string{"-EncodedCommand", "not*base64"}, psgate.CodeInvalidParameter},
		{"powershell", []string{"-EncodedCommand", base64.StdEncoding.EncodeToString([]byte("odd"))}, psgate.CodeInvalidParameter},
		{"powershell", []string{"-Frobnicate"}, psgate.CodeInvalidParameter},
	}
	for _, tt := range tests {
		_, err := parseWinRSCommand(tt.command, tt.args)
		if got := psgate.CodeOf(err); got != tt.code {
			t.Errorf("parseWinRSCommand(%q, %q) code = %s, want %s (err %v)", tt.command, tt.args, got, tt.code, err)
		}
	}
}

func TestReceiveWaitEndsBeforeClientTimeout(t *testing.T) {
	g := &Gateway{cfg: Config{MaxReceiveWait: 60 * time.Second}}
	tests := []struct{ op, want time.Duration }{
		{20 * time.Second, 18 * time.Second},  // pywinrm, pypsrp
		{60 * time.Second, 54 * time.Second},  // masterzen: must beat its 60 s header timeout
		{180 * time.Second, 54 * time.Second}, // PowerShell: capped at MaxTimeoutms
		{time.Second, 500 * time.Millisecond}, // go-psrp's PT1S
		{0, 54 * time.Second},
	}
	for _, tt := range tests {
		if got := g.receiveWait(tt.op); got != tt.want {
			t.Errorf("receiveWait(%v) = %v, want %v", tt.op, got, tt.want)
		}
	}
}

func TestPayloadLimitFitsEnvelope(t *testing.T) {
	g := &Gateway{cfg: Config{MaxEnvelopeSize: 512000}}
	for _, env := range []int{153600, 512000, 0, 10_000_000} {
		n := g.payloadLimit(env)
		eff := env
		if eff <= 0 || eff > 512000 {
			eff = 512000
		}
		if b64 := (n + 2) / 3 * 4; b64+4096 > eff {
			t.Errorf("payloadLimit(%d) = %d: base64 %d bytes plus envelope overflows %d", env, n, b64, eff)
		}
	}
}
