package interop

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// Enter-PSSession as the user sees it. The console host runs each typed
// line synchronously and shows only host calls (run on the console by
// ClientMethodExecutor), the ERROR_RECORDs it prints itself with
// WriteErrorLine(er.ToString()) ([PS] RunspaceRef.CreatePipeline), and a
// failed pipeline's error. Output objects and warning, verbose, debug,
// information and progress records only fill buffers nobody reads
// (ClientRemotePowerShell.HandleInformationalMessageReceived). screen
// replays a pipeline's messages the way the console treats them.

// screenLine is one thing the console prints: "WriteLine2 text",
// "WriteErrorLine text", "WriteLine3(12,5) text", "WriteProgress ...",
// "record: <error message>" for a printed ERROR_RECORD, "failed: <error
// message>" for the final state.
func screen(t *testing.T, r pipeResult) []string {
	t.Helper()
	var out []string
	for _, m := range r.msgs {
		switch m.Type {
		case psrp.MsgPipelineHostCall:
			o := decodeObj(t, m)
			if ci := intOf(prop(o, "ci")); ci != psrp.VoidCallID {
				t.Errorf("host call ci = %d: the server would wait for an answer to a Write", ci)
			}
			method := psrp.HostMethodID(intOf(prop(o, "mi")))
			params, _ := prop(o, "mp").([]any)
			out = append(out, hostCallText(t, method, params))
		case psrp.MsgErrorRecord:
			rec, err := psrp.ParseErrorRecord(m.Data, clixml.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, "record: "+rec.Message)
		case psrp.MsgPipelineState:
			if r.state == psrp.PipelineFailed {
				rec, _ := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
				exc, _ := prop(rec, "Exception").(*psobject.Object)
				msg, _ := prop(exc, "Message").(string)
				out = append(out, "failed: "+msg)
			}
		}
	}
	return out
}

func hostCallText(t *testing.T, m psrp.HostMethodID, params []any) string {
	t.Helper()
	switch m {
	case psrp.HostWriteLine2, psrp.HostWrite1, psrp.HostWriteErrorLine, psrp.HostWriteWarningLine,
		psrp.HostWriteVerboseLine, psrp.HostWriteDebugLine:
		if len(params) != 1 {
			t.Fatalf("%v with %d parameters, want 1: %#v", m, len(params), params)
		}
		return fmt.Sprintf("%v %v", m, params[0])
	case psrp.HostWriteLine3, psrp.HostWrite2:
		// PowerShell's RemoteHostEncoder sends the ConsoleColor enums
		// as plain Int32 values.
		fg, okF := params[0].(int32)
		bg, okB := params[1].(int32)
		if len(params) != 3 || !okF || !okB {
			t.Fatalf("%v parameters %#v, want Int32, Int32, String", m, params)
		}
		return fmt.Sprintf("%v(%d,%d) %v", m, fg, bg, params[2])
	case psrp.HostWriteProgress:
		if len(params) != 2 {
			t.Fatalf("WriteProgress parameters %#v, want sourceId and record", params)
		}
		if _, ok := params[0].(int64); !ok {
			t.Errorf("WriteProgress sourceId is %T, want Int64", params[0])
		}
		rec, ok := params[1].(*psobject.Object)
		if !ok {
			t.Fatalf("WriteProgress record is %T", params[1])
		}
		typ, _ := prop(rec, "Type").(psobject.Enum)
		return fmt.Sprintf("WriteProgress %v/%v %v%% %s", prop(rec, "Activity"), prop(rec, "StatusDescription"),
			prop(rec, "PercentComplete"), typ.Name)
	}
	return fmt.Sprintf("%v %v", m, params)
}

// fixtureHost is the console's host as the captured Windows PowerShell 5.1
// Create sends it in INIT_RUNSPACEPOOL: the host every Enter-PSSession
// pipeline uses (their HostInfo says UseRunspaceHost).
func fixtureHost(t *testing.T) psrp.HostInfo {
	t.Helper()
	env, err := os.ReadFile(createFixture)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := captureCreation(t, string(env))
	for _, m := range msgs {
		if m.Type == psrp.MsgInitRunspacePool {
			ip, err := psrp.ParseInitRunspacePool(m.Data, clixml.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			return ip.HostInfo
		}
	}
	t.Fatal("fixture has no INIT_RUNSPACEPOOL")
	return psrp.HostInfo{}
}

func TestEnterPSSessionScreen(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM1")
	host := fixtureHost(t)
	if !host.HasUI() || !host.Colors.Known {
		t.Fatalf("fixture host %+v: want a console with a UI and its colours", host)
	}
	fg, bg := host.Colors.Foreground, host.Colors.Background

	// typed runs a line as the console host does (RemotePipeline:
	// AddToHistory, no host of its own).
	typed := func(t *testing.T, line string) pipeResult {
		t.Helper()
		return c.invoke(createPipelineFor(pipelineSpec{noInput: true, addToHistory: true}, consoleLine(t, line)))
	}
	check := func(t *testing.T, line string, r pipeResult, want []string) {
		t.Helper()
		if out := r.of(psrp.MsgPipelineOutput); len(out) != 0 {
			t.Errorf("%s: %d PIPELINE_OUTPUT messages; the console drops them, so output must come as host calls", line, len(out))
		}
		got := screen(t, r)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: the console shows\n%s\nwant\n%s", line, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	t.Run("output", func(t *testing.T) {
		line := "Get-CsOnlineUser -Identity carol@contoso.test | Select-Object DisplayName"
		r := typed(t, line)
		r.completed(t, line)
		var text []string
		for _, l := range screen(t, r) {
			s, ok := strings.CutPrefix(l, "WriteLine2 ")
			if !ok {
				t.Fatalf("%s: %q is not WriteLine2 text", line, l)
			}
			text = append(text, strings.TrimRight(s, " "))
		}
		if !strings.Contains(strings.Join(text, "\n"), "DisplayName\n-----------\nCarol Diaz") {
			t.Errorf("%s: the console shows\n%s", line, strings.Join(text, "\n"))
		}
	})

	errorView := func(first, category, id string) []string {
		return []string{
			"WriteErrorLine " + first,
			"WriteErrorLine     + CategoryInfo          : " + category,
			"WriteErrorLine     + FullyQualifiedErrorId : " + id,
			"WriteErrorLine  ",
		}
	}
	writeErrorView := errorView("Write-Error : psgate-boom", "NotSpecified: (:) [Write-Error], WriteErrorException",
		"Microsoft.PowerShell.Commands.WriteErrorException,Write-Error")

	t.Run("a non-terminating error in a two-statement line is shown once, in full", func(t *testing.T) {
		// Two statements: no merge; Out-Default after each claims its
		// statement's errors (MergePreviousResults).
		line := "Write-Error psgate-boom; Write-Output psgate-after"
		r := typed(t, line)
		if r.state != psrp.PipelineCompleted {
			t.Fatalf("%s: state %v, want Completed", line, r.state)
		}
		check(t, line, r, append(writeErrorView, "WriteLine2 psgate-after"))
	})

	t.Run("a non-terminating error in a pipeline is shown once, in full", func(t *testing.T) {
		line := "Write-Error psgate-boom | Select-Object -First 1"
		r := typed(t, line)
		check(t, line, r, writeErrorView)
	})

	t.Run("a single command's error is merged into Out-Default", func(t *testing.T) {
		line := "Write-Error psgate-boom"
		r := typed(t, line)
		check(t, line, r, writeErrorView)
	})

	t.Run("an error no Out-Default claims still goes as ERROR_RECORD", func(t *testing.T) {
		// A pipeline of PowerShell's API (Invoke-Command's), not a typed
		// line: no Out-Default, nothing rendered.
		r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Write-Error", args: []winArg{{"", str("psgate-boom")}}}}))
		check(t, "Write-Error via the API", r, []string{"record: psgate-boom"})
	})

	t.Run("a terminating error fails the pipeline", func(t *testing.T) {
		line := "Get-CsNoSuchThing"
		r := typed(t, line)
		if r.state != psrp.PipelineFailed {
			t.Fatalf("%s: state %v, want Failed", line, r.state)
		}
		check(t, line, r, []string{"failed: The term 'Get-CsNoSuchThing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."})
	})

	t.Run("a warning", func(t *testing.T) {
		line := "Write-Warning psgate-careful"
		r := typed(t, line)
		r.completed(t, line)
		check(t, line, r, []string{"WriteWarningLine psgate-careful"})
		// A real server also sends the record, which the console only
		// buffers.
		if n := len(r.of(psrp.MsgWarningRecord)); n != 1 {
			t.Errorf("%d WARNING_RECORDs, want 1", n)
		}
	})

	t.Run("verbose only with -Verbose", func(t *testing.T) {
		r := typed(t, "Write-Verbose psgate-details -Verbose")
		check(t, "-Verbose", r, []string{"WriteVerboseLine psgate-details"})
		r = typed(t, "Write-Verbose psgate-details")
		check(t, "no -Verbose", r, nil)
	})

	t.Run("Write-Host", func(t *testing.T) {
		r := typed(t, "Write-Host psgate-hello")
		check(t, "Write-Host", r, []string{fmt.Sprintf("WriteLine3(%d,%d) psgate-hello", fg, bg)})
		r = typed(t, "Write-Host psgate-red -ForegroundColor Red")
		check(t, "Write-Host -ForegroundColor", r, []string{fmt.Sprintf("WriteLine3(12,%d) psgate-red", bg)})
		r = typed(t, "Write-Host psgate-a -NoNewline; Write-Host psgate-b -BackgroundColor DarkRed")
		check(t, "Write-Host -NoNewline", r, []string{
			fmt.Sprintf("Write2(%d,%d) psgate-a", fg, bg),
			fmt.Sprintf("WriteLine3(%d,4) psgate-b", fg),
		})
	})

	t.Run("progress", func(t *testing.T) {
		line := "Write-Progress -Activity Import -Status Half -PercentComplete 50"
		r := typed(t, line)
		check(t, line, r, []string{"WriteProgress Import/Half 50% Processing"})
	})
}

func TestEnterPSSessionTabExpansion2(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM1")

	// CommandCompletion.CompleteInput on a remote runspace:
	// AddCommand("TabExpansion2").AddArgument(input).AddArgument(cursor)
	// .AddArgument(options), then Invoke() without settings.
	complete := func(t *testing.T, input string, cursor int) (*psobject.Object, []*psobject.Object) {
		t.Helper()
		cmds := []winCmd{{cmd: "TabExpansion2", args: []winArg{{"", str(input)}, {"", i32(cursor)}, {"", nilValue}}}}
		r := c.invoke(createPipelineFor(pipelineSpec{noInput: true, streamOptions: 15}, cmds))
		r.completed(t, "TabExpansion2")
		out := r.outputs(t)
		if len(out) != 1 {
			t.Fatalf("TabExpansion2 wrote %d objects; the client keeps the result only when there is exactly one", len(out))
		}
		cc, ok := out[0].(*psobject.Object)
		if !ok || len(cc.TypeNames) == 0 || cc.TypeNames[0] != "System.Management.Automation.CommandCompletion" {
			t.Fatalf("TabExpansion2 wrote %#v, want a CommandCompletion the client can rehydrate", out[0])
		}
		list, ok := prop(cc, "CompletionMatches").([]any)
		if !ok {
			t.Fatalf("CompletionMatches is %T; RehydrateCommandCompletion reads it as an ArrayList", prop(cc, "CompletionMatches"))
		}
		var matches []*psobject.Object
		for _, m := range list {
			mo, ok := m.(*psobject.Object)
			if !ok || mo.TypeNames[0] != "System.Management.Automation.CompletionResult" {
				t.Fatalf("match %#v is not a CompletionResult", m)
			}
			matches = append(matches, mo)
		}
		return cc, matches
	}
	texts := func(ms []*psobject.Object) []string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprint(prop(m, "CompletionText")))
		}
		return out
	}

	t.Run("a cmdlet name", func(t *testing.T) {
		cc, ms := complete(t, "Get-CsOnl", 9)
		if got := texts(ms); strings.Join(got, ",") != "Get-CsOnlineSession,Get-CsOnlineUser" {
			t.Errorf("Get-CsOnl completes to %v", got)
		}
		if i, n := intOf(prop(cc, "ReplacementIndex")), intOf(prop(cc, "ReplacementLength")); i != 0 || n != 9 {
			t.Errorf("replacement %d+%d, want 0+9 (the whole word)", i, n)
		}
		for _, m := range ms {
			if rt := intOf(prop(m, "ResultType")); rt != 2 {
				t.Errorf("%v ResultType %d, want 2 (Command)", prop(m, "CompletionText"), rt)
			}
		}
	})

	t.Run("a parameter name", func(t *testing.T) {
		cc, ms := complete(t, "Get-CsOnlineUser -Ide", 21)
		if got := texts(ms); strings.Join(got, ",") != "-Identity" {
			t.Errorf("-Ide completes to %v", got)
		}
		if i, n := intOf(prop(cc, "ReplacementIndex")), intOf(prop(cc, "ReplacementLength")); i != 17 || n != 4 {
			t.Errorf("replacement %d+%d, want 17+4", i, n)
		}
		if len(ms) == 1 {
			if rt := intOf(prop(ms[0], "ResultType")); rt != 7 {
				t.Errorf("ResultType %d, want 7 (ParameterName)", rt)
			}
			if li := prop(ms[0], "ListItemText"); li != "Identity" {
				t.Errorf("ListItemText %v, want Identity", li)
			}
		}
	})

	t.Run("the cursor decides the word", func(t *testing.T) {
		_, ms := complete(t, "Get-CsOnl | Select-Object", 9)
		if len(ms) != 2 {
			t.Errorf("completion at the cursor, not the line's end: %v", texts(ms))
		}
	})

	t.Run("unknown commands complete to nothing", func(t *testing.T) {
		_, ms := complete(t, "Get-CsNoSuch -Ide", 17)
		if len(ms) != 0 {
			t.Errorf("completed %v", texts(ms))
		}
	})
}
