package interop

// Invoke-Command and Disconnect/Connect-PSSession by the Windows PowerShell
// stand-in (see winps_test.go: no Windows client can run here; every rule
// cites the client's source).

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/xpress"
)

// remotePipeline is the CREATE_PIPELINE of Invoke-Command: a RemotePipeline
// whose PSInvocationSettings are the defaults ([PS51] remoting/client/
// remotepipeline.cs l.904–908), so RemoteStreamOptions None and no history.
func remotePipeline(noInput bool, cmds []winCmd) string {
	return createPipelineFor(pipelineSpec{noInput: noInput}, cmds)
}

func TestWinpsInvokeCommand(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM2")
	// The WinRM client keeps a shell-level Receive outstanding for the
	// pool's whole life (WSManClientSessionTransportManager.StartReceivingData,
	// [PS51] WSManTransportManager.cs l.1025–1050); pipelines run beside it.
	poolReceive := c.pending(c.envelope(actWinReceive, c.resource, true, keepAlive, c.receiveBody("")))
	defer func() {
		c.delete()
		select {
		case r := <-poolReceive:
			if r.status == http.StatusOK && strings.Contains(r.body, "<rsp:Stream") && !strings.Contains(r.body, "></rsp:Stream>") {
				t.Errorf("the outstanding pool Receive got data during pipelines:\n%s", r.body)
			}
		case <-time.After(10 * time.Second):
			t.Error("the outstanding pool Receive did not end when the shell was deleted")
		}
	}()
	icm := func(t *testing.T, script string, scope sbScope) pipeResult {
		t.Helper()
		return c.invoke(remotePipeline(true, invokeCommandPipeline(t, script, scope)))
	}

	t.Run("icm { Get-CsOnlineUser -Identity carol }", func(t *testing.T) {
		o := oneUser(t, icm(t, "Get-CsOnlineUser -Identity carol@contoso.test", sbScope{}), "Get-CsOnlineUser -Identity")
		if prop(o, "DisplayName") != "Carol Diaz" {
			t.Fatalf("DisplayName = %v, want Carol Diaz", prop(o, "DisplayName"))
		}
	})

	t.Run("icm { Set-CsUser carol -Department Sales -PassThru }", func(t *testing.T) {
		o := oneUser(t, icm(t, "Set-CsUser carol@contoso.test -Department Sales -PassThru", sbScope{}), "Set-CsUser -PassThru")
		if prop(o, "Department") != "Sales" {
			t.Fatalf("Department = %v, want Sales", prop(o, "Department"))
		}
	})

	t.Run("icm { Get-CsOnlineUser @using:p } and -Args splat", func(t *testing.T) {
		p := []winArg{{"Identity", str("carol@contoso.test")}}
		oneUser(t, icm(t, "Get-CsOnlineUser @using:p", sbScope{using: map[string]any{"p": p}}), "@using:p")
		oneUser(t, icm(t, "Get-CsOnlineUser @p", sbScope{params: map[string]any{"p": p}}), "param($p) … @p")
	})

	t.Run("icm { Get-CsTenant; Get-CsOnlineUser -ResultSize 2 }", func(t *testing.T) {
		r := icm(t, "Get-CsTenant; Get-CsOnlineUser -ResultSize 2", sbScope{})
		r.completed(t, "two statements")
		if out := r.outputs(t); len(out) != 3 {
			t.Fatalf("got %d objects, want the tenant and two users", len(out))
		}
	})

	t.Run("compressed pipeline input", func(t *testing.T) {
		var input []psrp.Message
		words := []string{"delta", "alpha", "charlie", "bravo"}
		for _, w := range words {
			input = append(input, c.message(psrp.MsgPipelineInput, psrp.GUID{}, `<S>`+w+` `+strings.Repeat("padding ", 20)+`</S>`))
		}
		input = append(input, c.message(psrp.MsgEndOfPipelineInput, psrp.GUID{}, ""))
		// Windows compresses a Send stream of this size: check the test
		// really sends an LZ77+Huffman chunk, not a stored one.
		pid := newPID(t)
		frags := c.fragments(withPID(input, pid)...)
		framed := xpress.FrameCompressed(frags)
		if orig, comp := binary.LittleEndian.Uint16(framed[0:]), binary.LittleEndian.Uint16(framed[2:]); orig == comp {
			t.Fatalf("test setup: chunk is stored raw (%d bytes)", orig+1)
		}
		c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, remotePipeline(false, invokeCommandPipeline(t, "Sort-Object", sbScope{}))))
		c.sendCommand(pid, frags)
		r := c.receiveCommand(pid)
		c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
		r.completed(t, "Sort-Object")
		var got []string
		for _, v := range r.outputs(t) {
			got = append(got, strings.Fields(fmt.Sprint(v))[0])
		}
		if want := "alpha bravo charlie delta"; strings.Join(got, " ") != want {
			t.Fatalf("sorted input = %q, want %q", got, want)
		}
	})

	t.Run("CREATE_PIPELINE larger than the Command", func(t *testing.T) {
		// icm { Write-Output $using:big }: the first fragment rides in
		// Command's Arguments (uncompressed), the rest follows in a
		// compressed Send for the command.
		big := strings.Repeat("an argument of the imported proxy, ", 3000)
		pid := newPID(t)
		create := c.message(psrp.MsgCreatePipeline, pid, remotePipeline(true,
			invokeCommandPipeline(t, "Write-Output $using:big", sbScope{using: map[string]any{"big": str(big)}})))
		frags := c.fragments(create)
		first, n, err := psrp.DecodeFragment(frags)
		if err != nil || first.End {
			t.Fatalf("test setup: first fragment %v, %v", first, err)
		}
		c.runCommandRaw(pid, "Write-Output", frags[:n], frags[n:])
		r := c.receiveCommand(pid)
		c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
		r.completed(t, "Write-Output of a large argument")
		if out := r.outputs(t); len(out) != 1 || out[0] != big {
			t.Fatalf("got %d objects, want the argument back", len(out))
		}
	})

	t.Run("Ctrl+C stops Start-Sleep", func(t *testing.T) {
		pid := newPID(t)
		c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, remotePipeline(true, invokeCommandPipeline(t, "Start-Sleep -Seconds 30", sbScope{}))))
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		// Stop: WSManSignalShellEx with StopSignal "powershell/signal/crtl_c"
		// ([PS51] WSManTransportManager.cs l.2743, l.3104).
		c.signal(pid, signalCrtlC).mustOK(t, "Signal crtl_c")
		r := c.receiveCommand(pid)
		if r.state != psrp.PipelineStopped || !r.done {
			t.Fatalf("after crtl_c: state %v, Done %v; want Stopped; messages %v", r.state, r.done, r.msgs)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("stopping took %v", el)
		}
		c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
	})
}

// TestWinpsDisconnectConnect: Invoke-Command -InDisconnectedSession-style
// work running while Disconnect-PSSession is sent with a command Receive
// outstanding, then Get-PSSession -ConnectionUri and Connect-PSSession from
// a second client. Every output object must arrive exactly once.
// The server completes pending Receives before DisconnectResponse
// ([WSMV] §3.1.4.15; winps-client.md §2 item 4).
func TestWinpsDisconnectConnect(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	// New-PSSession -SessionOption (New-PSSessionOption -IdleTimeout 120000)
	c.idle = "PT120.000S"
	c.open("WinRM7")

	// Disconnect-PSSession -IdleTimeoutSec 600 first checks, on the client,
	// 60 s ≤ 600 s ≤ the MaxIdleTimeOut the server reported
	// (DisconnectPSSessionCommand.ValidateIdleTimeout).
	r := c.post(actWinEnumerate, winShellResource, false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>`).mustOK(t, "Enumerate")
	if got := seconds(t, r.doc.first("MaxIdleTimeOut").text); got < 600 {
		t.Fatalf("MaxIdleTimeOut = %v s: Disconnect-PSSession -IdleTimeoutSec 600 would be refused by the client", got)
	}
	if got := seconds(t, r.doc.first("IdleTimeOut").text); got != 120 {
		t.Errorf("IdleTimeOut = %v s, want the 120 s the client asked for", got)
	}

	// icm $s { Start-Sleep -Milliseconds 1500; Get-CsOnlineUser -Identity carol } -AsJob,
	// with its Receive outstanding when the client disconnects.
	running := newPID(t)
	c.runCommand(running, c.message(psrp.MsgCreatePipeline, running, remotePipeline(true,
		invokeCommandPipeline(t, "Start-Sleep -Milliseconds 1500; Get-CsOnlineUser -Identity carol@contoso.test", sbScope{}))))
	started := time.Now()
	outstanding := c.pending(c.envelope(actWinReceive, c.resource, true, keepAlive, c.receiveBody(strings.ToUpper(running.String()))))
	time.Sleep(100 * time.Millisecond)
	// WSManDisconnectShellEx with the session's IdleTimeout ([PS51]
	// WSManTransportManager.cs l.855–890); no PSRP message.
	disc := c.post(actWinDisconnect, c.resource, true, "", `<rsp:Disconnect><rsp:IdleTimeOut>PT600.000S</rsp:IdleTimeOut></rsp:Disconnect>`)
	disc.mustOK(t, "Disconnect")
	t.Logf("DisconnectResponse after the command ran %v", time.Since(started))
	// The WinRM client gives up a Receive still pending at Disconnect; only
	// what the server answered before DisconnectResponse reaches the user
	// (whether WinRM waits for it is open question 5 of winps-client.md).
	var firstOutputs int
	var firstIn psrp.Reassembler
	select {
	case pr := <-outstanding:
		t.Logf("Receive outstanding at Disconnect: HTTP %d, %d bytes", pr.status, len(pr.body))
		if pr.status == http.StatusOK {
			doc := parseXML(t, pr.body)
			for _, st := range doc.all("Stream") {
				msgs, err := firstIn.Write(c.decodeStream(st.text))
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					if m.Type == psrp.MsgPipelineOutput {
						firstOutputs++
					}
				}
			}
		}
	case <-time.After(200 * time.Millisecond):
		t.Error("the Receive outstanding at Disconnect was still pending after DisconnectResponse: the client abandons it, " +
			"and whatever the server sends on it is lost ([WSMV] §3.1.4.15)")
	}
	time.Sleep(2 * time.Second) // the command finishes while nobody is connected

	// Get-PSSession -ConnectionUri: Get-WSManInstance drops the query, and
	// the client is a new process with a new WinRM session.
	c2 := newWinPSClient(t, strings.Replace(ts.httpURL, "/wsman", "/powershell", 1), server.DemoAdmin, adminPassword)
	r = c2.post(actWinEnumerate, winShellResource, false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>`).mustOK(t, "Enumerate")
	var found *xnode
	for _, sh := range r.doc.all("Shell") {
		if strings.EqualFold(strings.TrimSpace(sh.first("ShellId").text), c.shellID) {
			found = sh
		}
	}
	if found == nil {
		t.Fatalf("Enumerate does not list shell %s:\n%s", c.shellID, r.body)
	}
	for name, want := range map[string]string{"State": "Disconnected", "Name": "WinRM7", "CompressionMode": "XpressCompression"} {
		if got := strings.TrimSpace(found.first(name).text); got != want {
			t.Errorf("enumerated %s = %q, want %q", name, got, want)
		}
	}
	if ru := strings.TrimSpace(found.first("ResourceUri").text); !strings.HasPrefix(ru, "http://schemas.microsoft.com/powershell/") {
		t.Errorf("ResourceUri = %q: Get-PSSession skips it", ru)
	}
	if it := seconds(t, found.first("IdleTimeOut").text); it != 600 {
		t.Errorf("IdleTimeOut after Disconnect -IdleTimeoutSec 600 = %v s", it)
	}
	filter := `<w:Filter Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"><w:SelectorSet><w:Selector Name="ShellId">` +
		c.shellID + `</w:Selector></w:SelectorSet></w:Filter>`
	r = c2.post(actWinEnumerate, winShellResource+"/Command", false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>`+filter+`</n:Enumerate>`).mustOK(t, "Enumerate commands")
	if ids := r.doc.all("CommandId"); len(ids) != 1 || !strings.EqualFold(strings.TrimSpace(ids[0].text), running.String()) {
		t.Fatalf("enumerated commands = %d, want the running command %v:\n%s", len(ids), running, r.body)
	}

	// Connect-PSSession: WSManConnectShellEx with connectXml holding
	// SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL (Min/Max only when known,
	// EncodeAndDecode.cs l.724–749), uncompressed, no options ([PS51]
	// WSManTransportManager.cs l.933–1010).
	c2.shellID, c2.rpid = c.shellID, c.rpid
	c2.compress = strings.TrimSpace(found.first("CompressionMode").text) == "XpressCompression"
	raw, err := readCreateFixture()
	if err != nil {
		t.Fatal(err)
	}
	capMsgs, _ := captureCreation(t, raw)
	capMsg := capMsgs[0]
	capMsg.RPID = c2.rpid
	c2.objectID = 0
	connectXML := c2.fragments(capMsg,
		c2.message(psrp.MsgConnectRunspacePool, psrp.GUID{}, `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32></MS></Obj>`))
	r = c2.post(actWinConnect, c2.resource, true, "",
		`<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">`+base64.StdEncoding.EncodeToString(connectXML)+`</connectXml></rsp:Connect>`).mustOK(t, "Connect")
	resp, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.doc.first("connectResponseXml").text))
	if err != nil {
		t.Fatalf("connectResponseXml: %v\n%s", err, r.body)
	}
	var in psrp.Reassembler
	msgs, err := in.Write(resp)
	if err != nil {
		t.Fatalf("connectResponseXml is not PSRP fragments (it is never compressed): %v", err)
	}
	if len(msgs) != 2 || msgs[0].Type != psrp.MsgSessionCapability || msgs[1].Type != psrp.MsgRunspacePoolInitData {
		t.Fatalf("connectResponseXml = %v, want SESSION_CAPABILITY, RUNSPACEPOOL_INIT_DATA", msgs)
	}
	pool := c2.receivePool(1)
	if pool[0].Type != psrp.MsgApplicationPrivateData {
		t.Fatalf("first pool message after Connect = %v, want APPLICATION_PRIVATE_DATA", pool[0].Type)
	}

	// Receive-PSSession: Connect to the command, then receive the rest.
	c2.post(actWinConnect, c2.resource, true, "", `<rsp:Connect CommandId="`+strings.ToUpper(running.String())+`"/>`).mustOK(t, "Connect command")
	buffered := c2.receiveCommand(running)
	c2.signal(running, signalTerminate).mustOK(t, "Signal terminate")
	if buffered.state != psrp.PipelineCompleted {
		t.Fatalf("command run while disconnected: state %v", buffered.state)
	}
	if n := firstOutputs + len(buffered.of(psrp.MsgPipelineOutput)); n != 1 {
		t.Errorf("the user object arrived %d times (%d before Disconnect, %d after Connect), want exactly once",
			n, firstOutputs, len(buffered.of(psrp.MsgPipelineOutput)))
	}
	res := c2.invoke(remotePipeline(true, invokeCommandPipeline(t, "Get-CsOnlineUser -Identity carol@contoso.test", sbScope{})))
	res.completed(t, "pipeline after Connect")
	if out := res.outputs(t); len(out) != 1 {
		t.Fatalf("got %d objects after Connect, want 1", len(out))
	}
}
