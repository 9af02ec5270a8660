package wsman

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"testing/iotest"
)

func TestSignals(t *testing.T) {
	for _, tt := range []struct {
		code            string
		terminate, stop bool
	}{
		{SignalTerminate, true, false},
		{NsShell + "/signal/Terminate", true, false}, // pypsrp
		{" " + SignalTerminate + "\n", true, false},
		{PSSignalCrtlC, false, true}, // PowerShell, typo included
		{PSSignalCtrlC, false, true}, // pypsrp
		{"http://schemas.microsoft.com/powershell/signal/crtl_c", false, true},
		{"POWERSHELL/SIGNAL/CTRL_C", false, true},
		{SignalCtrlC, false, true},
		{SignalCtrlBreak, false, true},
		{NsShell + "/signal/ctrl_z", false, false},
		{"", false, false},
		{"terminate", false, false},
	} {
		if got := IsTerminateSignal(tt.code); got != tt.terminate {
			t.Errorf("IsTerminateSignal(%q) = %v, want %v", tt.code, got, tt.terminate)
		}
		if got := IsStopSignal(tt.code); got != tt.stop {
			t.Errorf("IsStopSignal(%q) = %v, want %v", tt.code, got, tt.stop)
		}
	}
}

func TestConfigurationName(t *testing.T) {
	for _, tt := range []struct {
		uri  string
		want string
		ok   bool
	}{
		{PowerShellResourcePrefix + "Microsoft.PowerShell", "Microsoft.PowerShell", true},
		{"HTTP://SCHEMAS.MICROSOFT.COM/POWERSHELL/Microsoft.Exchange", "Microsoft.Exchange", true},
		{PowerShellResourcePrefix, "", false},
		{ResourceCmd, "", false},
		{"", "", false},
	} {
		got, ok := ConfigurationName(tt.uri)
		if got != tt.want || ok != tt.ok || IsPowerShellResource(tt.uri) != tt.ok {
			t.Errorf("ConfigurationName(%q) = %q, %v; want %q, %v", tt.uri, got, ok, tt.want, tt.ok)
		}
	}
	if !IsConfigResource(" "+ResourceConfig) || IsConfigResource(ResourceShell) {
		t.Error("IsConfigResource")
	}
}

func TestNewMessageID(t *testing.T) {
	got, err := NewMessageID(bytes.NewReader(bytes.Repeat([]byte{0xAB}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "uuid:ABABABAB-ABAB-4BAB-ABAB-ABABABABABAB"; got != want {
		t.Errorf("NewMessageID = %q, want %q", got, want)
	}
	re := regexp.MustCompile(`^uuid:[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	zero, _ := NewMessageID(bytes.NewReader(make([]byte, 16)))
	if !re.MatchString(zero) || !re.MatchString(got) {
		t.Errorf("not an upper-case v4 uuid: %q %q", got, zero)
	}
	if _, err := NewMessageID(iotest.ErrReader(errors.New("boom"))); err == nil {
		t.Error("NewMessageID with a failing reader: no error")
	}
}
