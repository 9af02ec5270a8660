package interop

// -Confirm answered by the Windows PowerShell stand-in (see winps_test.go:
// no Windows client can run here; every rule cites the client's source).

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// executeHostCall is ClientMethodExecutor.Execute for a pipeline's host
// call ([PS51] remoting/client/ClientMethodExecutor.cs l.211–229): a void
// method runs on the console and answers nothing; any other runs on the
// console's UI (RemoteHostCall.ExecuteNonVoidMethod,
// remoting/common/WireDataFormat/RemoteHost.cs l.252–264), and its
// RemoteHostResponse goes to the server as PIPELINE_HOST_RESPONSE with the
// pipeline's id (RemotePowerShellHostResponseData, l.219–225) at
// DataPriorityType.PromptResponse (l.227), which the command's transport
// sends as a Send on stream "pr" with the CommandId
// (fanin/WSManTransportManager.cs l.3944–3950).
func (c *winpsClient) executeHostCall(pid psrp.GUID, m psrp.Message) {
	c.t.Helper()
	call, err := psrp.ParseHostCall(m.Type, m.Data, clixml.Limits{})
	if err != nil {
		c.t.Fatalf("PIPELINE_HOST_CALL: %v\n%s", err, m.Data)
	}
	if call.CallID == psrp.VoidCallID {
		return
	}
	if c.console == nil {
		c.t.Fatalf("host call %v needs an answer, and the test gave the console none", call.Method)
	}
	result := c.console(call)
	// RemoteHostResponse.Encode (RemoteHost.cs l.638–647): an empty
	// PSObject with mr (left out when null, RemoteHostEncoder.cs
	// l.508–517), me (the same), ci and mi, in that order; an int is a
	// known type and stays itself (RemoteHostEncoder.EncodeObject).
	x := &cx{ref: 1}
	var mr string
	switch v := result.(type) {
	case int32:
		mr = `<I32 N="mr">` + strconv.Itoa(int(v)) + `</I32>`
	default:
		c.t.Fatalf("the console answered %T, which the model does not encode", result)
	}
	body := `<Obj RefId="0">` + ms(mr, fmt.Sprintf(`<I64 N="ci">%d</I64>`, call.CallID),
		x.enum("mi", "System.Management.Automation.Remoting.RemoteHostMethodId", call.Method.String(), int(call.Method))) + `</Obj>`
	resp := c.message(psrp.MsgPipelineHostResponse, pid, body)
	send := `<rsp:Send><rsp:Stream Name="pr" CommandId="` + strings.ToUpper(pid.String()) + `">` + c.stream(c.fragments(resp)) + `</rsp:Stream></rsp:Send>`
	c.post(actWinSend, c.resource, true, "", send).mustOK(c.t, "Send pr")
}

// Invoke-Command { Set-CsUser … -Confirm } in the console: the server's
// PromptForChoice reaches the console host of the runspace pool (the
// pipeline's HostInfo says UseRunspaceHost), whose user answers it.
func TestWinpsConfirm(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM2")
	poolReceive := c.pending(c.envelope(actWinReceive, c.resource, true, keepAlive, c.receiveBody("")))
	defer func() {
		c.delete()
		select {
		case <-poolReceive:
		case <-time.After(10 * time.Second):
			t.Error("the outstanding pool Receive did not end when the shell was deleted")
		}
	}()
	type asked struct {
		caption, message string
		choices          []psrp.ChoiceDescription
		def              int
	}
	var prompts []asked
	var answers []int32
	c.console = func(call psrp.HostCall) any {
		if call.Method != psrp.HostPromptForChoice {
			t.Fatalf("host call %v, want PromptForChoice", call.Method)
		}
		caption, message, choices, def, err := call.Choices()
		if err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, asked{caption, message, choices, def})
		n := answers[0]
		answers = answers[1:]
		return n
	}
	icm := func(script string) pipeResult {
		t.Helper()
		return c.invoke(remotePipeline(true, invokeCommandPipeline(t, script, sbScope{})))
	}
	title := func() string {
		t.Helper()
		o := oneUser(t, icm("Get-CsOnlineUser -Identity carol@contoso.test"), "Get-CsOnlineUser")
		return fmt.Sprint(prop(o, "Title"))
	}
	before := title()

	answers = []int32{2} // [N] No
	icm("Set-CsUser -Identity carol@contoso.test -Title Declined -Confirm").completed(t, "-Confirm answered No")
	if got := title(); got != before {
		t.Errorf("after No, Title = %q, want %q", got, before)
	}
	answers = []int32{0} // [Y] Yes
	icm("Set-CsUser -Identity carol@contoso.test -Title Accepted -Confirm").completed(t, "-Confirm answered Yes")
	if got := title(); got != "Accepted" {
		t.Errorf("after Yes, Title = %q", got)
	}
	if len(prompts) != 2 {
		t.Fatalf("%d prompts, want 2", len(prompts))
	}
	p := prompts[0]
	want := "Are you sure you want to perform this action?\nPerforming the operation \"Set-CsUser\" on target \"carol@contoso.test\"."
	if p.caption != "Confirm" || p.message != want || p.def != 0 || len(p.choices) != 4 ||
		p.choices[0] != (psrp.ChoiceDescription{Label: "&Yes", HelpMessage: "Continue with only the next step of the operation."}) ||
		p.choices[3] != (psrp.ChoiceDescription{Label: "No to A&ll", HelpMessage: "Skip this operation and all subsequent operations."}) {
		t.Errorf("prompt %+v", p)
	}
}
