// Package loadgen drives a psgate gateway with raw WS-Management requests
// over HTTP keep-alive, for benchmarks: WinRS command round trips and shell
// Create/Delete, with latency percentiles.
package loadgen

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// NewClient returns a client for the endpoint url with Basic credentials.
func NewClient(url, user, password string) *Client {
	return NewClientHTTP(url, user, password, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
}

// NewClientHTTP is NewClient sending through hc. The password may be
// "Bearer <access token>", as the connector sends tokens.
func NewClientHTTP(url, user, password string, hc *http.Client) *Client {
	return &Client{url: url, user: user, pw: password, http: hc}
}

// SetPassword replaces the Basic password, e.g. with a renewed
// "Bearer <token>". Not safe for use during a request.
func (c *Client) SetPassword(pw string) { c.pw = pw }

// maxReceives bounds the Receives of one command round trip.
const maxReceives = 1000

// Percentiles summarises latencies.
type Percentiles struct {
	N             int
	P50, P90, P99 time.Duration
}

// Summarise sorts lat and returns its percentiles.
func Summarise(lat []time.Duration) Percentiles {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	return Percentiles{N: len(lat), P50: p(0.50), P90: p(0.90), P99: p(0.99)}
}

// Client sends WS-Man requests.
type Client struct {
	url, user, pw string
	http          *http.Client
	seq           atomic.Int64
	// Requests counts HTTP requests sent.
	Requests atomic.Int64
}

const envelope = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header><a:To>%s</a:To><w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize><a:MessageID>uuid:00000000-0000-4000-8000-%012d</a:MessageID><w:OperationTimeout>PT20S</w:OperationTimeout><w:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><a:Action s:mustUnderstand="true">%s</a:Action>%s</s:Header><s:Body>%s</s:Body></s:Envelope>`

func (c *Client) post(action, shell, body string) (string, error) {
	sel := ""
	if shell != "" {
		sel = `<w:SelectorSet><w:Selector Name="ShellId">` + shell + `</w:Selector></w:SelectorSet>`
	}
	msg := fmt.Sprintf(envelope, c.url, c.seq.Add(1), action, sel, body)
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewBufferString(msg))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(c.user, c.pw)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	c.Requests.Add(1)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: HTTP %d: %s", action, resp.StatusCode, b)
	}
	return string(b), err
}

var (
	shellRE   = regexp.MustCompile(`Name="ShellId">([^<]+)<`)
	commandRE = regexp.MustCompile(`CommandId>([^<]+)<`)
)

// Create opens a WinRS shell and returns its id.
func (c *Client) Create() (string, error) {
	resp, err := c.post("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", "",
		`<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	if err != nil {
		return "", err
	}
	m := shellRE.FindStringSubmatch(resp)
	if m == nil {
		return "", fmt.Errorf("no ShellId in %s", resp)
	}
	return m[1], nil
}

// Delete closes a shell.
func (c *Client) Delete(shell string) error {
	_, err := c.post("http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", shell, "")
	return err
}

// RoundTrip runs command on shell: Command, Receive until Done, Signal.
func (c *Client) RoundTrip(shell, command string) error {
	resp, err := c.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command", shell,
		`<rsp:CommandLine><rsp:Command>`+command+`</rsp:Command></rsp:CommandLine>`)
	if err != nil {
		return err
	}
	m := commandRE.FindStringSubmatch(resp)
	if m == nil {
		return fmt.Errorf("no CommandId in %s", resp)
	}
	id := m[1]
	for i := 0; ; i++ {
		if i == maxReceives {
			return fmt.Errorf("command %s not done after %d Receives", id, maxReceives)
		}
		resp, err = c.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive", shell,
			`<rsp:Receive><rsp:DesiredStream CommandId="`+id+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
		if err != nil {
			return err
		}
		if strings.Contains(resp, "CommandState/Done") {
			break
		}
	}
	_, err = c.post("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal", shell,
		`<rsp:Signal CommandId="`+id+`"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`)
	return err
}
