package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/smnsjas/go-psrpcore/runspace"
	"github.com/smnsjas/go-psrpcore/serialization"

	"github.com/psgate/psgate/server"
)

// wsmanTransport carries go-psrpcore's PSRP fragments over psgate's
// WS-Management endpoint, as go-psrp's WSMan client does: the handshake
// travels in Create's creationXml, a pipeline's first fragment in Command's
// Arguments, further fragments in Send, and output comes from command
// Receives. go-psrpcore is sans-I/O, so this transport is the test's own.
type wsmanTransport struct {
	t        *testing.T
	url      string
	user, pw string
	shellID  string
	seq      int

	mu      sync.Mutex
	cond    *sync.Cond
	buf     bytes.Buffer
	active  string // CommandId whose output Read receives
	started map[uuid.UUID]bool
	closed  bool
}

const psrpResource = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"

func newWSManTransport(t *testing.T, url, user, pw string) *wsmanTransport {
	tr := &wsmanTransport{t: t, url: url, user: user, pw: pw, started: map[uuid.UUID]bool{}}
	tr.cond = sync.NewCond(&tr.mu)
	return tr
}

func (tr *wsmanTransport) post(action, body, extraHeaders string) (string, error) {
	tr.mu.Lock()
	tr.seq++
	id := fmt.Sprintf("uuid:%s", uuid.New().String())
	tr.mu.Unlock()
	sel := ""
	if tr.shellID != "" {
		sel = `<w:SelectorSet><w:Selector Name="ShellId">` + tr.shellID + `</w:Selector></w:SelectorSet>`
	}
	env := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header>` +
		`<a:To>` + tr.url + `</a:To><a:MessageID>` + id + `</a:MessageID><w:MaxEnvelopeSize>512000</w:MaxEnvelopeSize><w:OperationTimeout>PT1S</w:OperationTimeout>` +
		`<w:ResourceURI>` + psrpResource + `</w:ResourceURI><a:Action>` + action + `</a:Action>` + sel + extraHeaders +
		`</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
	req, err := http.NewRequest(http.MethodPost, tr.url, strings.NewReader(env))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(tr.user, tr.pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("%s: HTTP %d", action[strings.LastIndex(action, "/")+1:], resp.StatusCode)
	}
	return b.String(), nil
}

func (tr *wsmanTransport) create(creationXML []byte, poolID uuid.UUID) error {
	body := `<rsp:Shell ShellId="` + strings.ToUpper(poolID.String()) + `"><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>` +
		`<creationXml xmlns="http://schemas.microsoft.com/powershell">` + base64.StdEncoding.EncodeToString(creationXML) + `</creationXml></rsp:Shell>`
	opts := `<w:OptionSet><w:Option Name="protocolversion" MustComply="true">2.3</w:Option></w:OptionSet>`
	resp, err := tr.post("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", body, opts)
	if err != nil {
		return fmt.Errorf("%w: %s", err, resp)
	}
	tr.shellID = strings.ToUpper(poolID.String())
	return nil
}

// Write sends pool-level fragments (shell Send without CommandId).
func (tr *wsmanTransport) Write(p []byte) (int, error) {
	body := `<rsp:Send><rsp:Stream Name="stdin">` + base64.StdEncoding.EncodeToString(p) + `</rsp:Stream></rsp:Send>`
	if resp, err := tr.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send", body, ""); err != nil {
		return 0, fmt.Errorf("%w: %s", err, resp)
	}
	return len(p), nil
}

// SendCommand implements runspace.MultiplexedTransport; the WS-Man
// Command is sent with the pipeline's first fragment.
func (tr *wsmanTransport) SendCommand(uuid.UUID) error { return nil }

// SendPipelineData sends a pipeline fragment: the first as Command
// Arguments, the rest as Sends for that CommandId.
func (tr *wsmanTransport) SendPipelineData(id uuid.UUID, data []byte) error {
	cid := strings.ToUpper(id.String())
	tr.mu.Lock()
	first := !tr.started[id]
	tr.started[id] = true
	tr.mu.Unlock()
	if first {
		body := `<rsp:CommandLine CommandId="` + cid + `"><rsp:Command></rsp:Command><rsp:Arguments>` + base64.StdEncoding.EncodeToString(data) + `</rsp:Arguments></rsp:CommandLine>`
		if resp, err := tr.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command", body, ""); err != nil {
			return fmt.Errorf("%w: %s", err, resp)
		}
		tr.mu.Lock()
		tr.active = cid
		tr.cond.Broadcast()
		tr.mu.Unlock()
		return nil
	}
	body := `<rsp:Send><rsp:Stream Name="stdin" CommandId="` + cid + `">` + base64.StdEncoding.EncodeToString(data) + `</rsp:Stream></rsp:Send>`
	if resp, err := tr.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send", body, ""); err != nil {
		return fmt.Errorf("%w: %s", err, resp)
	}
	return nil
}

type receiveResponse struct {
	Streams []struct {
		Text string `xml:",chardata"`
	} `xml:"Body>ReceiveResponse>Stream"`
	State struct {
		State string `xml:"State,attr"`
	} `xml:"Body>ReceiveResponse>CommandState"`
}

// Read returns fragments from the active pipeline's command Receives.
func (tr *wsmanTransport) Read(p []byte) (int, error) {
	for {
		tr.mu.Lock()
		for tr.buf.Len() == 0 && tr.active == "" && !tr.closed {
			tr.cond.Wait()
		}
		if tr.buf.Len() > 0 {
			n, _ := tr.buf.Read(p)
			tr.mu.Unlock()
			return n, nil
		}
		if tr.closed {
			tr.mu.Unlock()
			return 0, errors.New("transport closed")
		}
		cid := tr.active
		tr.mu.Unlock()
		body := `<rsp:Receive><rsp:DesiredStream CommandId="` + cid + `">stdout</rsp:DesiredStream></rsp:Receive>`
		resp, err := tr.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive", body, "")
		if err != nil {
			if strings.Contains(resp, "2150858793") { // OperationTimeout: poll again
				continue
			}
			return 0, fmt.Errorf("%w: %s", err, resp)
		}
		var rr receiveResponse
		if err := xml.Unmarshal([]byte(resp), &rr); err != nil {
			return 0, err
		}
		tr.mu.Lock()
		for _, s := range rr.Streams {
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Text))
			if err != nil {
				tr.mu.Unlock()
				return 0, err
			}
			tr.buf.Write(data)

		}
		if strings.HasSuffix(rr.State.State, "/Done") && tr.active == cid {
			tr.active = ""
		}
		tr.mu.Unlock()
	}
}

func (tr *wsmanTransport) close() {
	_, _ = tr.post("http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", "", "")
	tr.mu.Lock()
	tr.closed = true
	tr.cond.Broadcast()
	tr.mu.Unlock()
}

// openPSRPCorePool opens a go-psrpcore runspace pool at url as the demo
// administrator, its handshake in the Create as Windows PowerShell sends
// it; close the transport when done.
func openPSRPCorePool(ctx context.Context, t *testing.T, url string) (*runspace.Pool, *wsmanTransport) {
	t.Helper()
	tr := newWSManTransport(t, url, server.DemoAdmin, adminPassword)
	poolID := uuid.New()
	pool := runspace.New(tr, poolID)
	pool.SkipHandshakeSend = true
	_ = pool.SetLogger(testLogger{t})
	creation, err := pool.GetHandshakeFragments()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.create(creation, poolID); err != nil {
		t.Fatal(err)
	}
	if err := pool.Open(ctx); err != nil {
		tr.close()
		t.Fatal(err)
	}
	pool.StartDispatchLoop()
	return pool, tr
}

func TestGoPSRPCore(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pool, tr := openPSRPCorePool(ctx, t, strings.Replace(ts.httpURL, "/wsman", "/powershell", 1))
	defer tr.close()

	pl, err := pool.CreatePipeline("Get-CsOnlineUser -Identity carol@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Invoke(ctx); err != nil {
		t.Fatal(err)
	}
	// CreatePipeline leaves NoInput false, so the server waits for the
	// input stream to end, as PowerShell's does.
	if err := pl.CloseInput(ctx); err != nil {
		t.Fatal(err)
	}
	var objects []any
	var errs []string
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		for msg := range pl.Error() {
			errs = append(errs, string(msg.Data))
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range pl.Output() {
			d := serialization.NewDeserializer()
			vals, err := d.Deserialize(msg.Data)
			d.Close()
			if err != nil {
				t.Errorf("deserialize output: %v", err)
				continue
			}
			objects = append(objects, vals...)
		}
	}()
	if err := pl.Wait(); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	<-errDone
	if len(objects) != 1 || len(errs) != 0 {
		t.Fatalf("got %d objects, want 1: %#v; errors: %q", len(objects), objects, errs)
	}
	obj, ok := objects[0].(*serialization.PSObject)
	if !ok {
		t.Fatalf("output is %T, want an object", objects[0])
	}
	if obj.Properties["DisplayName"] != "Carol Diaz" || len(obj.TypeNames) == 0 || obj.TypeNames[0] != "Psgate.OnlineUser" {
		t.Fatalf("object = types %v, properties %v", obj.TypeNames, obj.Properties)
	}
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
