// Command poolmem opens many idle PSRP runspace pools on a psgate gateway
// and keeps them open, so that bench/pools.sh can read the gateway's
// resident memory per pool. It also reports the latency of each open
// (Create with creationXml, then the pool Receive until Opened).
//
// Usage: poolmem -url http://127.0.0.1:15985/powershell -password P -n 10000
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:15985/powershell", "gateway endpoint")
	user := flag.String("user", "admin@contoso.test", "user name")
	pw := flag.String("password", os.Getenv("PSGATE_PASSWORD"), "password")
	n := flag.Int("n", 10000, "pools to open")
	flag.Parse()
	if err := run(*url, *user, *pw, *n); err != nil {
		fmt.Fprintln(os.Stderr, "poolmem:", err)
		os.Exit(1)
	}
}

func run(url, user, pw string, n int) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if err := open(hc, url, user, pw); err != nil {
			return fmt.Errorf("pool %d: %w", i, err)
		}
		lat = append(lat, time.Since(t))
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, "%d pools open\n", i+1)
		}
	}
	p := loadgen.Summarise(lat)
	fmt.Printf("opened %d pools: open p50=%v p90=%v p99=%v\n", p.N, p.P50.Round(time.Microsecond), p.P90.Round(time.Microsecond), p.P99.Round(time.Microsecond))
	fmt.Println("holding them open; press Enter (or close stdin) to exit")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

func guid() (psrp.GUID, string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
	g, _ := psrp.ParseGUID(s)
	return g, s
}

// open creates one pool and waits for RUNSPACEPOOL_STATE Opened.
func open(hc *http.Client, url, user, pw string) error {
	rpid, id := guid()
	var frag psrp.Fragmenter
	initMsg, err := psrp.NewInitRunspacePool(rpid, 1, 1)
	if err != nil {
		return err
	}
	creation := frag.AppendFragments(nil, psrp.NewClientSessionCapability(rpid).Encode())
	creation = frag.AppendFragments(creation, initMsg.Encode())
	req := wsman.Request{To: url, ResourceURI: wsman.PowerShellResourcePrefix + "Microsoft.PowerShell",
		Options: []wsman.Option{{Name: "protocolversion", Value: "2.3", MustComply: true}}}
	req.MessageID, _ = wsman.NewMessageID(rand.Reader)
	body := wsman.EncodeCreateRequest(req, wsman.CreateShell{ShellID: id, InputStreams: []string{"stdin", "pr"},
		OutputStreams: []string{"stdout"}, CreationXML: creation})
	if _, err := post(hc, url, user, pw, body); err != nil {
		return err
	}
	req.ShellID = id
	var ra psrp.Reassembler
	for {
		req.MessageID, _ = wsman.NewMessageID(rand.Reader)
		resp, err := post(hc, url, user, pw, wsman.EncodeReceiveRequest(req, "", "stdout"))
		if err != nil {
			return err
		}
		r, err := wsman.DecodeResponse(resp, wsman.Limits{})
		if err != nil {
			return err
		}
		for _, st := range r.Streams {
			msgs, err := ra.Write(st.Data)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if m.Type == psrp.MsgRunspacePoolState {
					return nil
				}
			}
		}
	}
}

func post(hc *http.Client, url, user, pw string, body []byte) ([]byte, error) {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	r.SetBasicAuth(user, pw)
	resp, err := hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	return b, err
}
