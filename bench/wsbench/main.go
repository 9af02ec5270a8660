// Command wsbench measures psgate's WS-Management latency over HTTP with
// keep-alive: a WinRS command round trip on an open shell (Command →
// Receive → Signal) and shell Create → Delete. It prints p50, p99 and
// requests per second for each.
//
// Usage: wsbench -url http://127.0.0.1:5985/wsman -user U -password P [-n 2000]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:5985/wsman", "gateway endpoint")
	user := flag.String("user", "admin@contoso.test", "user name")
	pw := flag.String("password", os.Getenv("PSGATE_PASSWORD"), "password (default $PSGATE_PASSWORD)")
	n := flag.Int("n", 2000, "iterations per scenario")
	command := flag.String("command", "Get-CsTenant", "command line to run")
	flag.Parse()
	c := &client{url: *url, user: *user, pw: *pw, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
	if err := run(c, *n, *command); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func run(c *client, n int, command string) error {
	shell, err := c.create()
	if err != nil {
		return err
	}
	// Warm up connections and caches.
	for range 50 {
		if err := c.roundTrip(shell, command); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, 0, n)
	c.requests.Store(0)
	start := time.Now()
	for range n {
		t := time.Now()
		if err := c.roundTrip(shell, command); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	report("command round trip (Command+Receive+Signal)", lat, c.requests.Load(), time.Since(start))
	if err := c.delete(shell); err != nil {
		return err
	}

	lat = lat[:0]
	c.requests.Store(0)
	start = time.Now()
	for range n {
		t := time.Now()
		id, err := c.create()
		if err != nil {
			return err
		}
		if err := c.delete(id); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	report("shell Create+Delete", lat, c.requests.Load(), time.Since(start))
	return nil
}

func report(name string, lat []time.Duration, requests int64, total time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	fmt.Printf("%-45s n=%d p50=%v p90=%v p99=%v  %.0f req/s  %.0f iterations/s\n", name, len(lat),
		p(0.50).Round(time.Microsecond), p(0.90).Round(time.Microsecond), p(0.99).Round(time.Microsecond),
		float64(requests)/total.Seconds(), float64(len(lat))/total.Seconds())
}

type client struct {
	url, user, pw string
	http          *http.Client
	seq           atomic.Int64
	requests      atomic.Int64
}

const envelope = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header><a:To>%s</a:To><w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize><a:MessageID>uuid:00000000-0000-4000-8000-%012d</a:MessageID><w:OperationTimeout>PT20S</w:OperationTimeout><w:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><a:Action s:mustUnderstand="true">%s</a:Action>%s</s:Header><s:Body>%s</s:Body></s:Envelope>`

func (c *client) post(action, shell, body string) (string, error) {
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
	c.requests.Add(1)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: HTTP %d: %s", action, resp.StatusCode, b)
	}
	return string(b), err
}

var (
	shellRE   = regexp.MustCompile(`Name="ShellId">([^<]+)<`)
	commandRE = regexp.MustCompile(`CommandId>([^<]+)<`)
)

func (c *client) create() (string, error) {
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

func (c *client) delete(shell string) error {
	_, err := c.post("http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", shell, "")
	return err
}

func (c *client) roundTrip(shell, command string) error {
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
	for {
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
