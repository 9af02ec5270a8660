package wsman

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/internal/xmlscantest"
)

// pypsrpEnv is the header set pypsrp sends on every request.
func pypsrpEnv(action, ru, msgID, session, to string, maxEnv int, shellID string) Envelope {
	e := Envelope{Action: action, ResourceURI: ru, MessageID: msgID, To: to, ReplyTo: AddressAnonymous,
		OperationTimeout: 20 * time.Second, MaxEnvelopeSize: maxEnv, Locale: "en-US", DataLocale: "en-US", SessionID: session}
	if shellID != "" {
		e.Selectors = []Selector{{Name: "ShellId", Value: shellID}}
	}
	return e
}

// pywinrmEnv is pywinrm 0.3.0's header set (lower-case message ids, no
// SessionId, a:To hard-coded).
func pywinrmEnv(action, msgID, shellID string, opts ...Option) Envelope {
	e := Envelope{Action: action, ResourceURI: ResourceCmd, MessageID: msgID, To: "http://windows-host:5985/wsman",
		ReplyTo: AddressAnonymous, OperationTimeout: 20 * time.Second, MaxEnvelopeSize: 153600,
		Locale: "en-US", DataLocale: "en-US", Options: opts}
	if shellID != "" {
		e.Selectors = []Selector{{Name: "ShellId", Value: shellID}}
	}
	return e
}

// masterzenEnv is masterzen/winrm's header set (DefaultParameters).
func masterzenEnv(action, msgID, shellID string, opts ...Option) Envelope {
	e := pywinrmEnv(action, msgID, shellID, opts...)
	e.To, e.OperationTimeout = "http://127.0.0.1:5985/wsman", 60*time.Second
	return e
}

// gopsrpEnv is go-psrp's header set.
func gopsrpEnv(action, msgID string, timeout time.Duration, shellID string) Envelope {
	e := pypsrpEnv(action, PowerShellResourcePrefix+"Microsoft.PowerShell", msgID, "uuid:ABCDEF01-2345-4678-9ABC-DEF012345678",
		"http://127.0.0.1:5985/wsman", 512000, shellID)
	e.OperationTimeout = timeout
	return e
}

func with(e Envelope, f func(*Envelope)) Envelope {
	f(&e)
	return e
}

func TestDecodeClientRequests(t *testing.T) {
	const (
		ps       = PowerShellResourcePrefix + "Microsoft.PowerShell"
		rec      = "https://127.0.0.1:55986/wsman"
		pwShell  = "4283CBDC-3706-415B-88BD-B385F3E51A53"
		pwCmd    = "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"
		mzShell  = "SHELL-1"
		psTo     = "https://gw.example.test:443/powershell?PSVersion=5.1.19041.1"
		psSessID = "uuid:11111111-2222-4333-8444-555555555555"
	)
	creation := append(psrpFragment(t, 1, 0x00010002, testRPID, zeroGUID, testCapabilityXML),
		psrpFragment(t, 2, 0x00010004, testRPID, zeroGUID, testInitPoolXML)...)
	connect := append(psrpFragment(t, 1, 0x00010002, testRPID, zeroGUID, testCapabilityXML),
		psrpFragment(t, 2, 0x00010008, testRPID, zeroGUID, `<S />`)...)
	protocol23 := []Option{{Name: "protocolversion", Value: "2.3", MustComply: true}}
	keepAlive := []Option{{Name: "WSMAN_CMDSHELL_OPTION_KEEPALIVE", Value: "True"}}

	tests := []struct {
		file string
		want Envelope
	}{
		// pywinrm 0.3.0: XML declaration, env: prefix, unprefixed mustUnderstand.
		{"pywinrm-create.xml", with(pywinrmEnv(ActionCreate, "uuid:542627e9-5698-4a78-b553-2b5678267407", "",
			Option{Name: "WINRS_NOPROFILE", Value: "FALSE"}, Option{Name: "WINRS_CODEPAGE", Value: "437"}), func(e *Envelope) {
			e.Shell = &Shell{InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"},
				WorkingDirectory: `C:\Temp`, IdleTimeout: 60 * time.Second, Environment: map[string]string{"PATH": `C:\bin`}}
		})},
		{"pywinrm-command.xml", with(pywinrmEnv(ActionCommand, "uuid:0fc4dd39-cdc0-4785-b594-7a054794bc08", pwShell,
			Option{Name: "WINRS_CONSOLEMODE_STDIN", Value: "TRUE"}, Option{Name: "WINRS_SKIP_CMD_SHELL", Value: "FALSE"}), func(e *Envelope) {
			e.CommandLine = &CommandLine{Command: "cmd.exe", Arguments: []string{"/c echo a&b"}}
		})},
		{"pywinrm-receive.xml", with(pywinrmEnv(ActionReceive, "uuid:fcb8ef60-0e8d-4954-9714-dc9dfc76ffe0", pwShell), func(e *Envelope) {
			e.Receive = &Receive{DesiredStreams: []string{"stdout", "stderr"}, CommandID: pwCmd}
		})},
		{"pywinrm-signal.xml", with(pywinrmEnv(ActionSignal, "uuid:c501c0e2-0ab3-4961-9b10-eb5a6f6797ee", pwShell), func(e *Envelope) {
			e.Signal = &Signal{CommandID: pwCmd, Code: SignalTerminate}
		})},
		{"pywinrm-delete.xml", pywinrmEnv(ActionDelete, "uuid:2cba4f1f-bddb-4c8c-9726-48b2402527d4", pwShell)},

		// masterzen/winrm: CDATA command and arguments, End="true".
		{"masterzen-create.xml", with(masterzenEnv(ActionCreate, "uuid:555f810f-2be8-4706-bd63-e0058c931202", "",
			Option{Name: "WINRS_NOPROFILE", Value: "FALSE"}, Option{Name: "WINRS_CODEPAGE", Value: "65001"}), func(e *Envelope) {
			e.Shell = &Shell{InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"}}
		})},
		{"masterzen-command.xml", with(masterzenEnv(ActionCommand, "uuid:88a1d70c-43a8-4d81-8b27-ceed457512bd", mzShell,
			Option{Name: "WINRS_CONSOLEMODE_STDIN", Value: "TRUE"}, Option{Name: "WINRS_SKIP_CMD_SHELL", Value: "FALSE"}), func(e *Envelope) {
			e.CommandLine = &CommandLine{Command: "echo a&b <c>", Arguments: []string{"/c", "x]]y"}}
		})},
		{"masterzen-receive.xml", with(masterzenEnv(ActionReceive, "uuid:f0d79415-dbd8-4292-8722-0018d0d4297f", mzShell), func(e *Envelope) {
			e.Receive = &Receive{DesiredStreams: []string{"stdout", "stderr"}, CommandID: "CMD-1"}
		})},
		{"masterzen-send.xml", with(masterzenEnv(ActionSend, "uuid:767094a3-152b-4425-9ef9-e29bb5bd4a68", mzShell), func(e *Envelope) {
			e.Send = &Send{Streams: []Stream{{Name: "stdin", CommandID: "CMD-1", End: true, Data: []byte("hello\r\n")}}}
		})},
		{"masterzen-signal.xml", with(masterzenEnv(ActionSignal, "uuid:ad96ccbd-e570-4251-8095-abda80bed593", mzShell), func(e *Envelope) {
			e.Signal = &Signal{CommandID: "CMD-1", Code: SignalTerminate}
		})},
		{"masterzen-delete.xml", masterzenEnv(ActionDelete, "uuid:1cc0d715-18bb-404f-a4d6-6a5a701adb3d", mzShell)},

		// pypsrp, WinRS.
		{"pypsrp-winrs-create-extra.xml", with(pypsrpEnv(ActionCreate, ResourceCmd, "uuid:89F90E3D-195D-4464-AE43-69348B2B1F08",
			"uuid:8EBCE629-FC81-459C-B10E-9C748327B9C6", "http://192.168.56.15:5985/wsman", 153600, ""), func(e *Envelope) {
			e.Shell = &Shell{Name: "shell 1", InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"},
				IdleTimeout: time.Minute, Lifetime: time.Minute, WorkingDirectory: `C:\Windows`}
		})},
		{"pypsrp-winrs-create-env.xml", with(pypsrpEnv(ActionCreate, ResourceCmd, "uuid:2A95150E-DBA9-4E56-A061-92CE9EFF5542",
			"uuid:38FE0B70-9878-4CBD-9381-0E76B71AFA03", "http://192.168.56.15:5985/wsman", 153600, ""), func(e *Envelope) {
			e.Shell = &Shell{InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"},
				Environment: map[string]string{"env1": "var1", "1234": "5678",
					"_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0": "_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0"}}
		})},
		{"pypsrp-winrs-receive.xml", with(pypsrpEnv(ActionReceive, ResourceCmd, "uuid:4CECD2A8-45E1-4835-B5D9-F4CEB4308A0F",
			"uuid:A635D444-7E75-4E46-9A68-2FFF53AF45CA", "http://192.168.56.11:5985/wsman", 153600, pwShell), func(e *Envelope) {
			e.Options = keepAlive
			e.Receive = &Receive{DesiredStreams: []string{"stdout", "stderr"}, CommandID: pwCmd}
		})},
		{"pypsrp-winrs-send-end.xml", with(pypsrpEnv(ActionSend, ResourceCmd, "uuid:221CD7F2-D09E-4512-BACC-EFCBA50775A3",
			"uuid:E3EDC93B-6629-44A6-8F70-2D94D134ACD3", "http://192.168.56.11:5985/wsman", 153600, "0D6FCA9D-2D40-44C3-B691-E665BE7AA687"), func(e *Envelope) {
			e.Send = &Send{Streams: []Stream{{Name: "stdin", CommandID: "B0973E54-434E-4D99-B4BE-ADE584CE3BFB", End: true,
				Data: []byte(`Write-Host "output 2";`)}}}
		})},
		{"pypsrp-winrs-signal-ctrlc.xml", with(pypsrpEnv(ActionSignal, ResourceCmd, "uuid:39F0C1EF-D3FD-4905-A01D-5524640DDD61",
			"uuid:A635D444-7E75-4E46-9A68-2FFF53AF45CA", "http://192.168.56.11:5985/wsman", 153600, pwShell), func(e *Envelope) {
			e.Signal = &Signal{CommandID: pwCmd, Code: SignalCtrlC}
		})},

		// pypsrp, PSRP.
		{"pypsrp-psrp-create.xml", with(pypsrpEnv(ActionCreate, ps, "uuid:F249DBE7-0E83-4F39-AE4A-28324CF61227",
			"uuid:AECF49AF-7164-43E6-B10A-E38E8C4986AD", rec, 153600, ""), func(e *Envelope) {
			e.Options = protocol23
			e.Shell = &Shell{ShellID: testRPID, InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"}, CreationXML: creation}
		})},
		{"pypsrp-psrp-receive-pool.xml", with(pypsrpEnv(ActionReceive, ps, "uuid:E4811C4E-F6ED-433E-94F9-4EFC65DC30C4",
			"uuid:AECF49AF-7164-43E6-B10A-E38E8C4986AD", rec, 153600, testRPID), func(e *Envelope) {
			e.Options = keepAlive
			e.Receive = &Receive{DesiredStreams: []string{"stdout"}}
		})},
		{"pypsrp-psrp-command.xml", with(pypsrpEnv(ActionCommand, ps, "uuid:B163A963-DD1E-47FD-94D0-3D631B7E4C4B",
			"uuid:934B94C5-4341-454E-825C-F118A365A283", rec, 512000, "B2E1C91B-A3AA-41B4-B346-405E6A90005B"), func(e *Envelope) {
			e.Options = []Option{{Name: "WINRS_SKIP_CMD_SHELL", Value: "False"}}
			e.CommandLine = &CommandLine{CommandID: "356E6DC2-6889-4305-9FE6-8B03F44D7210",
				Arguments: []string{"AAAAAAAAAAMAAAAAAAAAAAMAAABdAgAAAAYQAgCxo9PVbgwKT55bPB0qS26P08KxoPXka0qMfZ4PGis8TTxPYmogUmVmSWQ9IjAiPjxNUz48QiBOPSJOb0lucHV0Ij50cnVlPC9CPjwvTVM+PC9PYmo+"}}
		})},
		{"pypsrp-psrp-send.xml", with(pypsrpEnv(ActionSend, ps, "uuid:B228A0D4-DAAE-4209-A375-FBDB44B95299",
			"uuid:BCFA5359-ADFA-424F-B0B4-A22A543F102A", rec, 512000, "C189B341-BB56-44CA-BB69-05F0CAC14125"), func(e *Envelope) {
			e.Send = &Send{Streams: []Stream{{Name: "stdin", CommandID: "69743726-6FB3-4E5A-AD9E-0650B745173F",
				Data: psrpFragment(t, 4, 0x00041002, testRPID, testPID, `<S>line</S>`)}}}
		})},
		{"pypsrp-psrp-signal-ctrlc.xml", with(pypsrpEnv(ActionSignal, ps, "uuid:101FCD57-AE6F-4767-B99E-0A654EBCA2D6",
			"uuid:BB1BBBBF-F5C7-45DC-A736-6CB05C4B21C4", rec, 512000, "E1D0B269-64E9-4126-9B83-BFB3A6399F0C"), func(e *Envelope) {
			e.Signal = &Signal{CommandID: "1076F64C-EE0D-4253-A092-E777479C6656", Code: PSSignalCtrlC}
		})},
		{"pypsrp-psrp-signal-terminate.xml", with(pypsrpEnv(ActionSignal, ps, "uuid:6C6F043D-2449-4A60-9070-B3A834976D19",
			"uuid:18CD4AB1-F5C5-4097-A6F3-C49C2BDA4523", rec, 512000, "B2DDE5BA-F22F-4493-9B8E-8B565073F563"), func(e *Envelope) {
			e.Signal = &Signal{CommandID: "5B1BE6C6-ECFA-4BA8-806B-8DD7C290A0FA", Code: NsShell + "/signal/Terminate"}
		})},
		{"pypsrp-disconnect.xml", with(pypsrpEnv(ActionDisconnect, ps, "uuid:7F110BDF-CBF7-45C2-AA7E-1A06B0246021",
			"uuid:96676D7F-B39C-41F1-9C6C-02F79AE9C9B5", rec, 512000, "B6631D8E-65A0-49F2-9053-A1B156C95777"), func(e *Envelope) {
			e.Disconnect = &Disconnect{}
		})},
		{"pypsrp-reconnect.xml", pypsrpEnv(ActionReconnect, ps, "uuid:F0A7EC98-A0AF-46C2-87FB-A280682DC01C",
			"uuid:96676D7F-B39C-41F1-9C6C-02F79AE9C9B5", rec, 512000, "B6631D8E-65A0-49F2-9053-A1B156C95777")},
		{"pypsrp-connect-pool.xml", with(pypsrpEnv(ActionConnect, ps, "uuid:FE288C94-B236-4ED0-9EAC-DD75DAA3BCC0",
			"uuid:1B1A7792-F65D-431A-A256-19F3178EB7C9", rec, 153600, "B6631D8E-65A0-49F2-9053-A1B156C95777"), func(e *Envelope) {
			e.Options = protocol23
			e.Connect = &Connect{ConnectXML: connect}
		})},
		{"pypsrp-connect-command.xml", with(pypsrpEnv(ActionConnect, ps, "uuid:36F7EFC3-7221-42B8-99E4-82D0BDC3ED70",
			"uuid:934B94C5-4341-454E-825C-F118A365A283", rec, 512000, "BCEF62AD-380E-4314-B2A4-EB6748019B41"), func(e *Envelope) {
			e.Connect = &Connect{CommandID: "DB4E8DCF-51CC-423F-A7DF-5D0EA0D6FA08"}
		})},
		{"pypsrp-enumerate-shells.xml", with(pypsrpEnv(ActionEnumerate, ResourceShell, "uuid:5E6EE511-87B0-4C03-8084-15EEC39AD510",
			"uuid:1B1A7792-F65D-431A-A256-19F3178EB7C9", rec, 153600, ""), func(e *Envelope) {
			e.Enumerate = &Enumerate{OptimizeEnumeration: true, MaxElements: 32000}
		})},
		{"pypsrp-enumerate-commands.xml", with(pypsrpEnv(ActionEnumerate, ResourceShellCommand, "uuid:F345A186-4226-4A71-BFA1-5661C113F6F1",
			"uuid:1B1A7792-F65D-431A-A256-19F3178EB7C9", rec, 153600, ""), func(e *Envelope) {
			e.Enumerate = &Enumerate{OptimizeEnumeration: true, MaxElements: 32000,
				FilterDialect: "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter",
				Selectors:     []Selector{{Name: "ShellId", Value: "B6631D8E-65A0-49F2-9053-A1B156C95777"}}}
		})},
		{"pypsrp-get-shell.xml", pypsrpEnv(ActionGet, ResourceShell, "uuid:E29754D0-F3F8-40A2-9DD8-7201DAA4A48A",
			"uuid:00B78D41-F0E8-48F9-A424-C07045A58561", rec, 512000, "6F1903CA-E06A-4A8B-BDFC-B44203149D55")},
		{"pypsrp-get-config.xml", pypsrpEnv(ActionGet, ResourceConfig, "uuid:D4909985-CE1E-48D4-9AEC-DAB0C34BD421",
			"uuid:9A33A0EC-A837-46BC-9A96-6382C9E94BDF", rec, 153600, "")},

		// Windows PowerShell 5.1.
		{"powershell-create.xml", with(pypsrpEnv(ActionCreate, ps, "uuid:5C1E0B7A-2D34-4C8E-9F61-7A2B3C4D5E6F", psSessID, psTo, 512000, ""), func(e *Envelope) {
			e.OperationTimeout, e.DataLocale, e.CompressionType, e.Options = 180*time.Second, "de-DE", "xpress", protocol23
			e.Shell = &Shell{ShellID: testRPID, Name: "WinRM1", InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"}, CreationXML: creation}
		})},
		{"powershell-signal-crtlc.xml", with(pypsrpEnv(ActionSignal, ps, "uuid:0D8C7E6F-5A4B-4C3D-8E2F-1A0B9C8D7E6F", psSessID, psTo, 512000, testRPID), func(e *Envelope) {
			e.OperationTimeout = 180 * time.Second
			e.Signal = &Signal{CommandID: testPID, Code: PSSignalCrtlC}
		})},

		// go-psrp: formatted bodies, PT30M, PT1S, empty CommandId.
		{"gopsrp-create.xml", with(gopsrpEnv(ActionCreate, "uuid:B1C2D3E4-F5A6-4B7C-8D9E-0F1A2B3C4D5E", time.Minute, ""), func(e *Envelope) {
			e.Options = protocol23
			e.Shell = &Shell{ShellID: testRPID, InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"},
				IdleTimeout: 30 * time.Minute, CreationXML: creation}
		})},
		{"gopsrp-receive.xml", with(gopsrpEnv(ActionReceive, "uuid:C2D3E4F5-A6B7-4C8D-9E0F-1A2B3C4D5E6F", time.Second, testRPID), func(e *Envelope) {
			e.Receive = &Receive{DesiredStreams: []string{"stdout"}, CommandID: testPID}
		})},
		{"gopsrp-reconnect.xml", gopsrpEnv(ActionReconnect, "uuid:D3E4F5A6-B7C8-4D9E-8F0A-1B2C3D4E5F60", time.Minute, testRPID)},
		{"gopsrp-signal-empty-commandid.xml", with(gopsrpEnv(ActionSignal, "uuid:E4F5A6B7-C8D9-4E0F-9A1B-2C3D4E5F6071", time.Minute, testRPID), func(e *Envelope) {
			e.Signal = &Signal{Code: SignalTerminate}
		})},

		{"identify.xml", Envelope{Identify: true}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, err := Decode(readFile(t, filepath.Join("testdata", "requests", tt.file)), Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
	files, _ := filepath.Glob("testdata/requests/*.xml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("fixture %s has no expectation in this table", f)
		}
	}
}

// TestDecodeEchoesMessageIDVerbatim: whatever bytes the client put in
// wsa:MessageID come back unchanged (pypsrp compares strings, pywinrm
// parses lower-case UUIDs).
func TestDecodeEchoesMessageIDVerbatim(t *testing.T) {
	re := regexp.MustCompile(`<(?:a|wsa):MessageID>([^<]*)</`)
	files, _ := filepath.Glob("testdata/requests/*.xml")
	for _, f := range files {
		body := readFile(t, f)
		m := re.FindSubmatch(body)
		if m == nil {
			continue // Identify
		}
		env, err := Decode(body, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got, want := env.MessageID, string(m[1]); got != want {
			t.Errorf("%s: MessageID = %q, want %q", f, got, want)
		}
	}
}

func TestDecodeLenientForms(t *testing.T) {
	env := func(header, body string) []byte {
		return []byte(`<?xml version="1.0"?><S:Envelope xmlns:S="` + NsSOAP + `" xmlns:A="` + NsAddressing + `" xmlns:W="` + NsWSMan +
			`" xmlns:R="` + NsShell + `"><S:Header><A:Action S:mustUnderstand="1">` + ActionReceive + `</A:Action>` +
			`<A:MessageID>  uuid:X  </A:MessageID><W:ResourceURI mustUnderstand="true">` + ResourceCmd + `</W:ResourceURI>` +
			header + `</S:Header><S:Body>` + body + `</S:Body></S:Envelope>`)
	}
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, e *Envelope)
	}{
		{"unknown headers and body elements are ignored", env(`<foo:Bar xmlns:foo="urn:x" S:mustUnderstand="true">1</foo:Bar>`,
			`<R:Receive><R:DesiredStream>stdout</R:DesiredStream><foo:Extra xmlns:foo="urn:x"/></R:Receive><other xmlns="urn:y"/>`),
			func(t *testing.T, e *Envelope) {
				if got, want := e.Receive.DesiredStreams, []string{"stdout"}; !slices.Equal(got, want) {
					t.Errorf("DesiredStreams = %q, want %q", got, want)
				}
			}},
		{"message id keeps its white space", env(``, `<R:Receive/>`), func(t *testing.T, e *Envelope) {
			if e.MessageID != "  uuid:X  " {
				t.Errorf("MessageID = %q, want it verbatim", e.MessageID)
			}
		}},
		{"selectors, options and booleans compare case-insensitively",
			env(`<W:SelectorSet><W:Selector Name="SHELLID">abc</W:Selector></W:SelectorSet><W:OptionSet><W:Option Name="winrs_noprofile" MustComply="TRUE">1</W:Option><W:Option Name="B">no</W:Option></W:OptionSet>`, `<R:Receive/>`),
			func(t *testing.T, e *Envelope) {
				if got := e.ShellID(); got != "abc" {
					t.Errorf("ShellID() = %q, want abc", got)
				}
				if v, ok := e.BoolOption("WINRS_NOPROFILE"); !v || !ok {
					t.Errorf("BoolOption(WINRS_NOPROFILE) = %v, %v; want true, true", v, ok)
				}
				if o, _ := e.Option("WINRS_NOPROFILE"); !o.MustComply {
					t.Errorf("MustComply = false, want true")
				}
				if _, ok := e.BoolOption("b"); ok {
					t.Errorf("BoolOption(b) ok for value %q", "no")
				}
				if _, ok := e.BoolOption("missing"); ok {
					t.Errorf("BoolOption(missing) ok")
				}
			}},
		{"comments and CDATA", env(`<!-- c -->`, `<R:Receive><R:DesiredStream><![CDATA[stdout]]> stderr</R:DesiredStream></R:Receive>`),
			func(t *testing.T, e *Envelope) {
				if got, want := e.Receive.DesiredStreams, []string{"stdout", "stderr"}; !slices.Equal(got, want) {
					t.Errorf("DesiredStreams = %q, want %q", got, want)
				}
			}},
		{"base64 with line breaks", []byte(`<s:Envelope xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `" xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell + `"><s:Header><a:Action>` + ActionSend + `</a:Action><a:MessageID>uuid:1</a:MessageID><w:ResourceURI>` + ResourceCmd + `</w:ResourceURI></s:Header><s:Body><rsp:Send><rsp:Stream Name="stdin" End="TRUE">aGVs
bG8=</rsp:Stream></rsp:Send></s:Body></s:Envelope>`), func(t *testing.T, e *Envelope) {
			if got := string(e.Send.Streams[0].Data); got != "hello" || !e.Send.Streams[0].End {
				t.Errorf("stream = %q end=%v, want hello end=true", got, e.Send.Streams[0].End)
			}
		}},
		{"Disconnect overrides", []byte(`<s:Envelope xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `" xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell + `"><s:Header><a:Action>` + ActionDisconnect + `</a:Action><a:MessageID>uuid:1</a:MessageID><w:ResourceURI>` + ResourceCmd + `</w:ResourceURI></s:Header><s:Body><rsp:Disconnect><rsp:IdleTimeout>PT60.000S</rsp:IdleTimeout><rsp:BufferMode>Drop</rsp:BufferMode></rsp:Disconnect></s:Body></s:Envelope>`),
			func(t *testing.T, e *Envelope) {
				if got, want := *e.Disconnect, (Disconnect{IdleTimeout: time.Minute, BufferMode: "Drop"}); got != want {
					t.Errorf("Disconnect = %+v, want %+v", got, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Decode(tt.body, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tt.check(t, e)
		})
	}
}

// TestDecodeUTF16 covers PowerShell's -UseUTF16 session option.
func TestDecodeUTF16(t *testing.T) {
	src := readFile(t, "testdata/requests/powershell-create.xml")
	want, err := Decode(src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"LE with BOM", xmlscantest.UTF16(string(src), false, true)},
		{"BE with BOM", xmlscantest.UTF16(string(src), true, true)},
		{"LE without BOM", xmlscantest.UTF16(string(src), false, false)},
		{"LE with utf-16 declaration", xmlscantest.UTF16(`<?xml version="1.0" encoding="utf-16"?>`+string(src), false, true)},
		{"UTF-8 BOM", append([]byte{0xEF, 0xBB, 0xBF}, src...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.body, Limits{MaxEnvelopeSize: 1 << 20})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := string(readFile(t, "testdata/requests/pypsrp-winrs-receive.xml"))
	envelope := func(header, body string) string {
		return `<s:Envelope xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `" xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell +
			`"><s:Header>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
	}
	hdr := func(action string) string {
		return `<a:Action>` + action + `</a:Action><a:MessageID>uuid:M</a:MessageID><w:ResourceURI>` + ResourceCmd + `</w:ResourceURI>`
	}
	deep := envelope(hdr(ActionReceive), `<rsp:Receive>`+repeat("<x>", 40)+repeat("</x>", 40)+`</rsp:Receive>`)
	wide := envelope(hdr(ActionReceive), `<rsp:Receive>`+repeat("<x/>", 20000)+`</rsp:Receive>`)
	tests := []struct {
		name      string
		body      string
		lim       Limits
		kind      DecodeErrorKind
		header    string
		messageID string
	}{
		{"empty body", "", Limits{}, KindMalformed, "", ""},
		{"white space only", " \r\n\t", Limits{}, KindMalformed, "", ""},
		{"over the limit", valid, Limits{MaxEnvelopeSize: 100}, KindTooLarge, "", ""},
		{"over the default limit", "<a>" + repeat(" ", DefaultMaxEnvelopeSize) + "</a>", Limits{}, KindTooLarge, "", ""},
		{"truncated", valid[:len(valid)/2], Limits{}, KindMalformed, "", ""},
		{"binary garbage", "\x00\x01\xff\xfe\x80garbage\x7f", Limits{}, KindMalformed, "", ""},
		{"not XML", "hello world", Limits{}, KindMalformed, "", ""},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x "y">]>` + valid[strings.Index(valid, "<s:Envelope"):], Limits{}, KindMalformed, "", ""},
		{"external entity", `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + envelope(hdr(ActionReceive), `<rsp:Receive>&xxe;</rsp:Receive>`), Limits{}, KindMalformed, "", ""},
		{"undefined entity", envelope(hdr(ActionReceive), `<rsp:Receive>&xxe;</rsp:Receive>`), Limits{}, KindMalformed, "", ""},
		{"too deep", deep, Limits{}, KindMalformed, "", ""},
		{"too many elements", wide, Limits{}, KindMalformed, "", ""},
		{"custom depth limit", valid, Limits{MaxDepth: 3}, KindMalformed, "", ""},
		{"custom element limit", valid, Limits{MaxElements: 10}, KindMalformed, "", ""},
		{"utf-16 declared on a UTF-8 body", `<?xml version="1.0" encoding="utf-16"?>` + envelope(hdr(ActionDelete), ""), Limits{}, KindMalformed, "", ""},
		{"two roots", envelope(hdr(ActionDelete), "") + "<s:Envelope/>", Limits{}, KindMalformed, "", ""},
		{"text after root", envelope(hdr(ActionDelete), "") + "junk", Limits{}, KindMalformed, "", ""},
		{"SOAP 1.1", `<s:Envelope xmlns:s="` + NsSOAP11 + `"><s:Body/></s:Envelope>`, Limits{}, KindMalformed, "", ""},
		{"not an envelope", `<Envelope/>`, Limits{}, KindMalformed, "", ""},
		{"no body", `<s:Envelope xmlns:s="` + NsSOAP + `"><s:Header/></s:Envelope>`, Limits{}, KindMalformed, "", ""},
		{"UTF-16 odd length", "\xff\xfe<\x00a", Limits{}, KindMalformed, "", ""},
		{"latin-1 declaration", `<?xml version="1.0" encoding="iso-8859-1"?>` + envelope(hdr(ActionDelete), ""), Limits{}, KindMalformed, "", ""},
		{"no action", envelope(`<a:MessageID>uuid:M</a:MessageID>`, ""), Limits{}, KindMissingHeader, "wsa:Action", "uuid:M"},
		{"no header at all", `<s:Envelope xmlns:s="` + NsSOAP + `"><s:Body/></s:Envelope>`, Limits{}, KindMissingHeader, "wsa:Action", ""},
		{"no message id", envelope(`<a:Action>`+ActionDelete+`</a:Action>`, ""), Limits{}, KindMissingHeader, "wsa:MessageID", ""},
		{"blank message id", envelope(`<a:Action>`+ActionDelete+`</a:Action><a:MessageID> </a:MessageID>`, ""), Limits{}, KindMissingHeader, "wsa:MessageID", " "},
		{"no resource uri", envelope(`<a:Action>`+ActionDelete+`</a:Action><a:MessageID>uuid:M</a:MessageID>`, ""), Limits{}, KindMissingHeader, "wsman:ResourceURI", "uuid:M"},
		{"bad OperationTimeout", envelope(hdr(ActionDelete)+`<w:OperationTimeout>soon</w:OperationTimeout>`, ""), Limits{}, KindMalformed, "", "uuid:M"},
		{"bad MaxEnvelopeSize", envelope(hdr(ActionDelete)+`<w:MaxEnvelopeSize>-1</w:MaxEnvelopeSize>`, ""), Limits{}, KindMalformed, "", "uuid:M"},
		{"invalid base64", envelope(hdr(ActionSend), `<rsp:Send><rsp:Stream Name="stdin">@@@@</rsp:Stream></rsp:Send>`), Limits{}, KindMalformed, "", "uuid:M"},
		{"invalid creationXml", envelope(hdr(ActionCreate), `<rsp:Shell><creationXml xmlns="`+NsPowerShell+`">a</creationXml></rsp:Shell>`), Limits{}, KindMalformed, "", "uuid:M"},
		{"bad IdleTimeOut", envelope(hdr(ActionCreate), `<rsp:Shell><rsp:IdleTimeOut>PTS</rsp:IdleTimeOut></rsp:Shell>`), Limits{}, KindMalformed, "", "uuid:M"},
		{"Create without Shell", envelope(hdr(ActionCreate), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"Command without CommandLine", envelope(hdr(ActionCommand), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"Send without Send", envelope(hdr(ActionSend), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"Receive without Receive", envelope(hdr(ActionReceive), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"Signal without Code", envelope(hdr(ActionSignal), `<rsp:Signal CommandId="x"/>`), Limits{}, KindMalformed, "", "uuid:M"},
		{"Connect without Connect", envelope(hdr(ActionConnect), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"Enumerate without Enumerate", envelope(hdr(ActionEnumerate), ``), Limits{}, KindMalformed, "", "uuid:M"},
		{"bad MaxElements", envelope(hdr(ActionEnumerate), `<n:Enumerate xmlns:n="`+NsEnumeration+`"><w:MaxElements>x</w:MaxElements></n:Enumerate>`), Limits{}, KindMalformed, "", "uuid:M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Decode([]byte(tt.body), tt.lim)
			if env != nil {
				t.Errorf("Decode returned an envelope with error %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v, want a *DecodeError", err)
			}
			if de.Kind != tt.kind || de.Header != tt.header || de.MessageID != tt.messageID {
				t.Errorf("got kind %v header %q message id %q, want %v %q %q (%v)", de.Kind, de.Header, de.MessageID, tt.kind, tt.header, tt.messageID, err)
			}
			sentinel := map[DecodeErrorKind]error{KindMalformed: ErrMalformed, KindTooLarge: ErrTooLarge, KindMissingHeader: ErrMissingHeader}[tt.kind]
			if !errors.Is(err, sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, sentinel)
			}
			if !strings.HasPrefix(err.Error(), "wsman: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }
