package wsman

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// recorded is a real WinRM response from testdata/winrm or testdata/faults (recorded by
// pypsrp against Windows Server), minus the leading provenance comment and
// the p:ActivityId header psgate does not send.
type recorded struct {
	body      []byte
	messageID string
	relatesTo string
}

var (
	reComment    = regexp.MustCompile(`^<!--.*?-->\n`)
	reActivityID = regexp.MustCompile(`<p:ActivityId>[^<]*</p:ActivityId>`)
	reMessageID  = regexp.MustCompile(`<a:MessageID>([^<]*)</a:MessageID>`)
	reRelatesTo  = regexp.MustCompile(`<a:RelatesTo>([^<]*)</a:RelatesTo>`)
)

func loadRecorded(t *testing.T, name string) recorded {
	t.Helper()
	b := readFile(t, filepath.Join("testdata", name))
	b = reComment.ReplaceAll(b, nil)
	b = reActivityID.ReplaceAll(b, nil)
	return recorded{body: b, messageID: string(reMessageID.FindSubmatch(b)[1]), relatesTo: string(reRelatesTo.FindSubmatch(b)[1])}
}

// recordedStreams extracts the opaque stream payloads and command state of
// a recorded ReceiveResponse, so the test can re-encode them.
func recordedStreams(t *testing.T, body []byte) ReceiveResult {
	t.Helper()
	var doc struct {
		Streams []struct {
			Name      string `xml:"Name,attr"`
			CommandID string `xml:"CommandId,attr"`
			End       string `xml:"End,attr"`
			Data      string `xml:",chardata"`
		} `xml:"Body>ReceiveResponse>Stream"`
		State *struct {
			CommandID string `xml:"CommandId,attr"`
			State     string `xml:"State,attr"`
			ExitCode  *int   `xml:"ExitCode"`
		} `xml:"Body>ReceiveResponse>CommandState"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var r ReceiveResult
	for _, s := range doc.Streams {
		data, err := base64.StdEncoding.DecodeString(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		r.Streams = append(r.Streams, OutStream{Name: s.Name, CommandID: s.CommandID, End: s.End == "true", Data: data})
	}
	if doc.State != nil {
		r.State = &CommandState{CommandID: doc.State.CommandID, State: doc.State.State, ExitCode: doc.State.ExitCode}
	}
	return r
}

// TestEncodeMatchesRealWinRM re-encodes recorded Windows Server responses
// from their content and expects the same bytes: namespace declarations,
// element order, duration formats and escaping all match what every client
// already accepts from WinRM.
func TestEncodeMatchesRealWinRM(t *testing.T) {
	const (
		ps     = PowerShellResourcePrefix + "Microsoft.PowerShell"
		recURL = "https://127.0.0.1:55986/wsman"
	)
	psShell := func(id string, pid int, state string, runtime time.Duration, mem int) ShellInfo {
		return ShellInfo{ShellID: id, ResourceURI: ps, Owner: `WIN-NNMU24VVKJ0\vagrant`, ClientIP: "10.0.2.2", ProcessID: pid,
			IdleTimeout: 7200 * time.Second, InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"},
			PowerShell: true, MaxIdleTimeout: 2147483647 * time.Millisecond, State: state, ShellRunTime: runtime, MemoryUsedMB: mem}
	}
	tests := []struct {
		file   string
		encode func(t *testing.T, h Header, body []byte) []byte
	}{
		{"winrm/winrs-create.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeCreateResponse(h, "http://192.168.56.11:5985/wsman", ShellInfo{ShellID: "4283CBDC-3706-415B-88BD-B385F3E51A53",
				ResourceURI: ResourceCmd, Owner: "vagrant", ClientIP: "192.168.56.1", IdleTimeout: 2 * time.Hour,
				InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"}})
		}},
		{"winrm/winrs-create-extra.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeCreateResponse(h, "http://192.168.56.15:5985/wsman", ShellInfo{ShellID: "CBA3E536-A3A2-4B88-9ED3-4919930E15C2",
				ResourceURI: ResourceCmd, Owner: "vagrant", ClientIP: "192.168.56.1", WorkingDirectory: `C:\Windows`, IdleTimeout: time.Minute,
				InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"}})
		}},
		{"winrm/winrs-command.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeCommandResponse(h, "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")
		}},
		{"winrm/winrs-receive-done.xml", func(t *testing.T, h Header, body []byte) []byte {
			return EncodeReceiveResponse(h, recordedStreams(t, body))
		}},
		{"winrm/winrs-receive-running.xml", func(t *testing.T, h Header, body []byte) []byte {
			return EncodeReceiveResponse(h, recordedStreams(t, body))
		}},
		{"winrm/winrs-send.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionSendResponse
			return EncodeEmptyResponse(h, BodySendResponse)
		}},
		{"winrm/winrs-signal.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionSignalResponse
			return EncodeEmptyResponse(h, BodySignalResponse)
		}},
		{"winrm/winrs-delete.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionDeleteResponse
			return EncodeEmptyResponse(h, BodyNone)
		}},
		{"faults/winrm-timeout.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeFault(h, Fault{Code: "s:Receiver", Subcode: "w:TimedOut", WSManCode: 2150858793, Machine: "192.168.56.11",
				Reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "})
		}},
		{"winrm/psrp-create.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeCreateResponse(h, recURL, psShell("76056A84-51DC-4F24-9262-CA2A55464B2B", 1868, "", 0, 0))
		}},
		{"winrm/psrp-receive-pool.xml", func(t *testing.T, h Header, body []byte) []byte {
			return EncodeReceiveResponse(h, recordedStreams(t, body))
		}},
		{"winrm/psrp-receive-done.xml", func(t *testing.T, h Header, body []byte) []byte {
			return EncodeReceiveResponse(h, recordedStreams(t, body))
		}},
		{"winrm/psrp-delete.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionDeleteResponse
			return EncodeEmptyResponse(h, BodyNone)
		}},
		{"winrm/psrp-disconnect.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionDisconnectResponse
			return EncodeEmptyResponse(h, BodyNone)
		}},
		{"winrm/psrp-reconnect.xml", func(t *testing.T, h Header, _ []byte) []byte {
			h.Action = ActionReconnectResponse
			return EncodeEmptyResponse(h, BodyNone)
		}},
		{"winrm/psrp-enumerate-shells.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeEnumerateShells(h, []ShellInfo{
				psShell("B6631D8E-65A0-49F2-9053-A1B156C95777", 2792, "Disconnected", 9*time.Second, 46),
				psShell("01AA3E43-9E21-424B-A7FC-BC16AA34F4CE", 4060, "Disconnected", 0, 46),
			})
		}},
		{"winrm/psrp-enumerate-commands-empty.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeEnumerateCommands(h, nil)
		}},
		{"winrm/psrp-enumerate-commands.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeEnumerateCommands(h, []CommandInfo{{CommandID: "DB4E8DCF-51CC-423F-A7DF-5D0EA0D6FA08"}})
		}},
		{"winrm/psrp-connect-pool.xml", func(t *testing.T, h Header, body []byte) []byte {
			m := regexp.MustCompile(`<connectResponseXml[^>]*>([^<]*)<`).FindSubmatch(body)
			data, err := base64.StdEncoding.DecodeString(string(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			return EncodeConnectResponse(h, data)
		}},
		{"winrm/psrp-connect-command.xml", func(t *testing.T, h Header, _ []byte) []byte {
			return EncodeConnectResponse(h, nil)
		}},
		{"winrm/psrp-get-shell.xml", func(t *testing.T, h Header, _ []byte) []byte {
			s := psShell("6F1903CA-E06A-4A8B-BDFC-B44203149D55", 4384, "", 0, 58)
			s.Owner, s.ClientIP, s.IdleTimeout = "vagrant", "fdc3:d46:8e06:cfa8:f075:80ff:fe33:2fc8", time.Minute
			return EncodeGetShell(h, s)
		}},
	}
	files, _ := filepath.Glob("testdata/winrm/*.xml")
	covered := 0
	for _, tt := range tests {
		if strings.HasPrefix(tt.file, "winrm/") {
			covered++
		}
	}
	if len(files) != covered {
		t.Errorf("%d recorded responses in testdata/winrm, %d test cases", len(files), covered)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := loadRecorded(t, tt.file)
			got := tt.encode(t, Header{MessageID: rec.messageID, RelatesTo: rec.relatesTo}, rec.body)
			if !bytes.Equal(got, rec.body) {
				t.Errorf("encoded response differs from WinRM's\n got: %s\nwant: %s", got, rec.body)
			}
		})
	}
}
