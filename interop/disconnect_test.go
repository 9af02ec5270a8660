package interop

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

var reShellState = regexp.MustCompile(`(?s)<rsp:ShellId>([^<]*)</rsp:ShellId>.*?<rsp:State>([^<]*)</rsp:State>`)

// outputsOf counts PIPELINE_OUTPUT messages and final PIPELINE_STATEs.
func outputsOf(msgs []psrp.Message) (outputs, states int) {
	return len(rawOfType(msgs, psrp.MsgPipelineOutput)), len(rawOfType(msgs, psrp.MsgPipelineState))
}

// Disconnect-PSSession while a command runs and the client's Receive is
// waiting for its output, then Receive-PSSession: the waiting Receive is
// answered before the DisconnectResponse ([MS-WSMV] §3.1.4.15), the shell
// refuses Receives while disconnected, and the command's output reaches the
// client exactly once across the disconnect, over many small Receives, both
// when the same client reconnects and when another one connects
// (Get-PSSession + Connect-PSSession).
func TestDisconnectWithPendingReceive(t *testing.T) {
	ts := startServer(t)
	for _, mode := range []string{"reconnect", "connect"} {
		t.Run(mode, func(t *testing.T) {
			c := newRawPool(t, ts.httpURL, server.DemoAdmin, adminPassword)
			opening := c.open("Disconnect-" + mode)
			apd := rawOfType(opening, psrp.MsgApplicationPrivateData)
			if len(apd) != 1 {
				t.Fatalf("opening messages %v", opening)
			}
			skipAtOpen, _ := rawSkipList(t, apd[0])

			users := psrp.Command{Cmd: "Get-CsOnlineUser"}
			one := rawPID(t)
			n, _ := outputsOf(c.run(c.pipeline(one, []psrp.Command{users})))
			if n < 2 {
				t.Fatalf("Get-CsOnlineUser returned %d users; the test needs several", n)
			}
			// Users, a pause the disconnect falls into, then more users.
			sleep := psrp.Command{Cmd: "Start-Sleep", Args: []psrp.Arg{{Name: "Milliseconds", Value: int32(3000)}}}
			const after = 3
			statements := [][]psrp.Command{{users}, {sleep}}
			for range after {
				statements = append(statements, []psrp.Command{users})
			}
			want := n * (1 + after)
			pid := rawPID(t)
			c.command(pid, c.pipeline(pid, statements...))

			// Small envelopes: the output takes many Receives.
			c.maxEnvelope = 8192
			var in psrp.Reassembler
			got, states := 0, 0
			for deadline := time.Now().Add(10 * time.Second); got < n; {
				if time.Now().After(deadline) {
					t.Fatalf("received %d of the first %d users", got, n)
				}
				r := c.receive(&in, pid)
				o, s := outputsOf(r.msgs)
				got, states = got+o, states+s
			}

			// The command sleeps: this Receive waits.
			pending := make(chan struct {
				code int
				body string
				at   time.Time
			}, 1)
			go func() {
				code, body, _ := c.do(context.Background(), c.receiveEnvelope(pid))
				pending <- struct {
					code int
					body string
					at   time.Time
				}{code, body, time.Now()}
			}()
			time.Sleep(300 * time.Millisecond)
			c.post("Disconnect", rawActions+"Disconnect", rawResource, true, "",
				`<rsp:Disconnect><rsp:IdleTimeOut>PT600.000S</rsp:IdleTimeOut></rsp:Disconnect>`)
			disconnected := time.Now()
			select {
			case p := <-pending:
				if p.code != http.StatusOK {
					t.Fatalf("the pending Receive was answered HTTP %d:\n%s", p.code, p.body)
				}
				r := c.parseReceive(&in, p.body)
				if r.state != "Running" {
					t.Errorf("the pending Receive reported CommandState %q, want Running", r.state)
				}
				o, s := outputsOf(r.msgs)
				got, states = got+o, states+s
			case <-time.After(time.Second):
				t.Fatal("the Receive pending at Disconnect was still unanswered after the DisconnectResponse")
			}

			// While disconnected the shell takes no Receive.
			code, body, err := c.do(context.Background(), c.receiveEnvelope(pid))
			if err != nil || code != http.StatusInternalServerError || !strings.Contains(body, "disconnected") {
				t.Fatalf("Receive on the disconnected shell: HTTP %d %v\n%s", code, err, body)
			}

			rc := c
			switch mode {
			case "reconnect":
				// Connect-PSSession on the same object.
				c.post("Reconnect", rawActions+"Reconnect", rawResource, true, "", `<rsp:Reconnect/>`)
			case "connect":
				// Another process: Get-PSSession, then Connect-PSSession.
				rc = newRawPool(t, ts.httpURL, server.DemoAdmin, adminPassword)
				rc.shellID, rc.rpid, rc.objectID = c.shellID, c.rpid, 100
				list := rc.post("Enumerate", "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
					"http://schemas.microsoft.com/wbem/wsman/1/windows/shell", false, "",
					`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>`)
				state := ""
				for _, m := range reShellState.FindAllStringSubmatch(list, -1) {
					if strings.EqualFold(m[1], c.shellID) {
						state = m[2]
					}
				}
				if state != "Disconnected" {
					t.Fatalf("Enumerate shows shell %s in state %q, want Disconnected:\n%s", c.shellID, state, list)
				}
				connectXML := rc.fragments(
					psrp.NewClientSessionCapability(rc.rpid),
					rc.message(psrp.MsgConnectRunspacePool, psrp.GUID{}, `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32></MS></Obj>`),
				)
				rc.post("Connect", rawActions+"Connect", rawResource, true, "",
					`<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">`+base64.StdEncoding.EncodeToString(connectXML)+`</connectXml></rsp:Connect>`)
				pool := rc.receivePool(1)
				if pool[0].Type != psrp.MsgApplicationPrivateData {
					t.Fatalf("first pool message after Connect = %v", pool[0].Type)
				}
				if skip, _ := rawSkipList(t, pool[0]); !slices.Equal(skip, skipAtOpen) {
					t.Errorf("CommandsToSkip after Connect = %v, at open %v", skip, skipAtOpen)
				}
				rc.post("Connect command", rawActions+"Connect", rawResource, true, "", `<rsp:Connect CommandId="`+strings.ToUpper(pid.String())+`"/>`)
				rc.maxEnvelope = 8192
				in = psrp.Reassembler{}
			}

			// A Receive the client abandons before output arrives takes
			// nothing with it.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, _, err = rc.do(ctx, rc.receiveEnvelope(pid))
			cancel()
			if err == nil {
				t.Fatal("the abandoned Receive was answered: the command was expected to still sleep")
			}

			receives := 0
			for deadline := time.Now().Add(30 * time.Second); ; {
				if time.Now().After(deadline) {
					t.Fatalf("no CommandState Done after reconnecting; %d of %d users", got, want)
				}
				r := rc.receive(&in, pid)
				receives++
				o, s := outputsOf(r.msgs)
				got, states = got+o, states+s
				if r.state == "Done" {
					break
				}
			}
			if got != want || states != 1 {
				t.Fatalf("%d users and %d final states across the disconnect, want %d users exactly once and one state", got, states, want)
			}
			if receives < 3 {
				t.Errorf("the output after reconnecting came in %d Receives; the test wants it spread over many", receives)
			}
			if time.Since(disconnected) < time.Second {
				t.Errorf("the command finished %v after the Disconnect: it did not run across it", time.Since(disconnected))
			}
			rc.signalTerminate(pid)
		})
	}
}
