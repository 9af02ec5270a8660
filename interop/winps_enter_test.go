package interop

// Enter-PSSession in the Windows PowerShell console, by the stand-in (see
// winps_test.go: no Windows client can run here; every rule cites the
// client's source). [CH] is [PS51] src/Microsoft.PowerShell.ConsoleHost/
// host/msh.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// console is what the user of a pushed runspace sees.
type console struct {
	t        *testing.T
	c        *winpsClient
	text     strings.Builder // the scroll-back
	progress []string        // WriteProgress calls: the progress pane, not scroll-back
	popped   bool            // PopRunspace arrived
	prompt   string
}

// hostCall executes one host call on the console, as ClientMethodExecutor
// does ([PS51] remoting/client/ClientMethodExecutor.cs) with the console's
// ConsoleHostUserInterface ([CH]/ConsoleHostUserInterface.cs: the DEBUG:,
// VERBOSE: and WARNING: prefixes at l.1267, l.1328, l.1371).
func (k *console) hostCall(m psrp.Message) {
	o := decodeObj(k.t, m)
	params, _ := prop(o, "mp").([]any)
	arg := func(i int) string {
		if i < len(params) {
			return fmt.Sprint(params[i])
		}
		return ""
	}
	switch mi := intOf(prop(o, "mi")); mi {
	case 13: // Write1
		k.text.WriteString(arg(0))
	case 14: // Write2(fg, bg, value)
		k.text.WriteString(arg(2))
	case 15: // WriteLine1
		k.text.WriteString("\n")
	case 16, 18: // WriteLine2, WriteErrorLine
		k.text.WriteString(arg(0) + "\n")
	case 17: // WriteLine3(fg, bg, value)
		k.text.WriteString(arg(2) + "\n")
	case 19:
		k.text.WriteString("DEBUG: " + arg(0) + "\n")
	case 21:
		k.text.WriteString("VERBOSE: " + arg(0) + "\n")
	case 22:
		k.text.WriteString("WARNING: " + arg(0) + "\n")
	case 20: // WriteProgress(sourceId, record)
		k.progress = append(k.progress, arg(1))
	case 53: // PopRunspace: ClientRemotePowerShell.ExitHandler ([PS51] l.298–320)
		k.popped = true
	default:
		k.t.Errorf("host call %d is not modelled: %s", mi, m.Data)
	}
}

// run runs what the console does for a pipeline and returns the result:
// a synchronous Invoke() (Executor.ExecuteCommandHelper, [CH]/Executor.cs
// l.405–410). It prints host calls, and each ERROR_RECORD with
// WriteErrorLine(er.ToString()) (RunspaceRef.CreatePipeline, [PS51]
// remoting/client/RunspaceRef.cs l.225–241; ErrorRecord.ToString is
// ErrorDetails.Message or Exception.Message, ErrorPackage.cs l.1699–1715).
// Output objects and the WARNING/VERBOSE/DEBUG/INFORMATION/PROGRESS records
// only fill buffers nobody reads (ClientRemotePowerShell.
// HandleInformationalMessageReceived, l.521–560).
func (k *console) run(create string, input ...psrp.Message) pipeResult {
	r := k.c.invoke(create, input...)
	for _, m := range r.msgs {
		switch m.Type {
		case psrp.MsgPipelineHostCall:
			k.hostCall(m)
		case psrp.MsgErrorRecord:
			k.text.WriteString(errorRecordString(decodeObj(k.t, m)) + "\n")
		}
	}
	return r
}

func errorRecordString(rec *psobject.Object) string {
	if d, ok := prop(rec, "ErrorDetails_Message").(string); ok && d != "" {
		return d
	}
	exc, _ := prop(rec, "Exception").(*psobject.Object)
	if exc != nil {
		if msg, _ := prop(exc, "Message").(string); msg != "" {
			return msg
		}
	}
	return rec.String()
}

// line is one line typed at the remote prompt.
func (k *console) line(line string) {
	k.t.Helper()
	// EvaluatePrompt first: ExecuteCommandAndGetResultAsString("prompt")
	// with no options ([CH]/ConsoleHost.cs l.2750–2776): prompt converts
	// to Cmd=prompt, no Out-Default, no history flag; the console shows
	// "[computer]: " + the first result (HostUtilities.GetRemotePrompt).
	pr := k.c.invoke(createPipelineFor(pipelineSpec{noInput: true, history: "prompt"}, consolePrompt(k.t)))
	pr.completed(k.t, "prompt")
	k.prompt = ""
	if out := pr.outputs(k.t); len(out) > 0 {
		k.prompt = fmt.Sprint(out[0])
	}
	if k.prompt == "" {
		k.prompt = "PS>"
	}
	k.text.WriteString("[127.0.0.1]: " + k.prompt + line + "\n")
	// exec.ExecuteCommand(line, AddOutputter | AddToHistory) (l.2545): the
	// pipeline carries the line as its history string (RunspaceRef.cs
	// l.248) and AddToHistory (remotepipeline.cs l.905).
	r := k.run(createPipelineFor(pipelineSpec{noInput: true, addToHistory: true, history: line}, consoleLine(k.t, line)))
	if r.state == psrp.PipelineFailed {
		k.reportException(r)
	}
}

func consolePrompt(t testing.TB) []winCmd {
	cmds, err := getPowerShell("prompt", nil, sbScope{})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

// reportException is ConsoleHost.ReportException ([CH]/ConsoleHost.cs
// l.1984–2033) for a terminating error: the error record, wrapped with a
// writeErrorStream note, is piped into Out-Default in a new pipeline of
// the *pushed* runspace (Executor.CreatePipeline → RunspaceRef.
// CreatePipeline(), [CH]/Executor.cs l.282–292), with AddOutputter on an
// empty pipeline: only Out-Default (Executor.cs l.362–373). When that
// fails too, ReportExceptionFallback writes the message locally
// (l.2050–2083).
func (k *console) reportException(failed pipeResult) {
	k.t.Helper()
	rec, _ := prop(failed.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
	if rec == nil {
		k.t.Fatalf("PIPELINE_STATE Failed without ExceptionAsErrorRecord: %v", failed.stateObj)
	}
	wrapped := *rec
	wrapped.Extended = append(append([]psobject.Property(nil), rec.Extended...), psobject.P("writeErrorStream", true))
	data, err := clixml.Marshal(&wrapped)
	if err != nil {
		k.t.Fatal(err)
	}
	r := k.run(createPipelineFor(pipelineSpec{}, executorAddOutputter(nil)),
		k.c.message(psrp.MsgPipelineInput, psrp.GUID{}, string(data)),
		k.c.message(psrp.MsgEndOfPipelineInput, psrp.GUID{}, ""))
	if r.state != psrp.PipelineCompleted {
		k.text.WriteString(errorRecordString(rec) + "\n")
	}
}

func TestWinpsEnterPSSession(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM3")
	k := &console{t: t, c: c}

	// The probe of RunspaceRef.Override ([PS51] RunspaceRef.cs l.300–345):
	// Get-Command -Name Out-Default, Exit-PSSession as GET_COMMAND_METADATA
	// with the default CommandType Alias|Function|Filter|Cmdlet|Configuration
	// (271, EncodeAndDecode.cs l.1030) and Module null; BeginInvoke, then at
	// least 3 results and no error, or Enter-PSSession refuses the server.
	pid := newPID(t)
	c.runCommand(pid, c.message(psrp.MsgGetCommandMetadata, pid,
		getCommandMetadata([]string{"Out-Default", "Exit-PSSession"}, 271, "Alias, Function, Filter, Cmdlet, Configuration", nil)))
	probe := c.receiveCommand(pid)
	c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
	if n := len(probe.outputs(t)); n < 3 || len(probe.of(psrp.MsgErrorRecord)) > 0 {
		t.Fatalf("Enter-PSSession refuses the server: the probe returned %d objects and %d errors (RemoteRunspaceDoesNotSupportPushRunspace)",
			n, len(probe.of(psrp.MsgErrorRecord)))
	}

	type step struct {
		line    string
		want    []string // lines the console prints for it, each exactly once
		wantNot []string
	}
	steps := []step{
		{line: "Get-CsTenant", want: nil},
		{line: "Get-CsOnlineUser -Identity carol@contoso.test | fl", want: []string{"Carol Diaz"}},
		{line: "Set-CsUser carol@contoso.test -Department Sales -PassThru", want: []string{"Carol Diaz"}},
		// A non-terminating error in a line of two statements: no merge, so
		// the error is unclaimed until the last Out-Default renders it, in
		// full, once, as Out-Default with MergePreviousResults does on a
		// real server (winps-client.md §2 item 3).
		{line: "Get-CsOnlineUser -Identity nobody@contoso.test; Get-CsOnlineUser -Identity carol@contoso.test",
			want: []string{"Carol Diaz", "FullyQualifiedErrorId"}},
		// A terminating error: PIPELINE_STATE Failed, then ReportException.
		{line: "Get-NoSuchThing", want: []string{"is not recognized as the name of a cmdlet", "FullyQualifiedErrorId : CommandNotFoundException"}},
		{line: "Write-Warning psgate-warn", want: []string{"WARNING: psgate-warn"}},
		{line: "Write-Host psgate-host", want: []string{"psgate-host"}},
		{line: "Write-Verbose psgate-verbose -Verbose", want: []string{"VERBOSE: psgate-verbose"}},
		{line: "Write-Verbose psgate-quiet", wantNot: []string{"psgate-quiet"}},
		{line: "Write-Progress -Activity psgate-activity -Status Half -PercentComplete 50"},
	}
	for _, st := range steps {
		t.Run(st.line, func(t *testing.T) {
			k.t = t
			before := k.text.Len()
			nProgress := len(k.progress)
			k.line(st.line)
			printed := k.text.String()[before:]
			lines := strings.Split(strings.TrimSuffix(printed, "\n"), "\n")[1:] // after the prompt line
			if len(st.want) == 0 && len(st.wantNot) == 0 && !strings.HasPrefix(st.line, "Write-Progress") && strings.TrimSpace(strings.Join(lines, "")) == "" {
				t.Errorf("the console printed nothing for %q", st.line)
			}
			for _, w := range st.want {
				n := 0
				for _, l := range lines {
					if strings.Contains(l, w) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%q is printed %d times, want once; the console shows:\n%s", w, n, printed)
				}
			}
			for _, w := range st.wantNot {
				if strings.Contains(strings.Join(lines, "\n"), w) {
					t.Errorf("%q is printed; the console shows:\n%s", w, printed)
				}
			}
			if strings.Contains(st.line, "nobody@contoso.test") {
				n := strings.Count(printed, "nobody@contoso.test")
				if n == 0 || strings.Count(printed, "FullyQualifiedErrorId") != 1 {
					t.Errorf("the error for nobody@contoso.test is not printed once in full (PowerShell's error view); the console shows:\n%s", printed)
				}
			}
			if strings.HasPrefix(st.line, "Write-Progress") && len(k.progress) != nProgress+1 {
				t.Errorf("Write-Progress drew %d progress updates, want 1 (a WriteProgress host call)", len(k.progress)-nProgress)
			}
		})
	}

	t.Run("Tab completion", func(t *testing.T) {
		// CommandCompletion.CompleteInput → CallScriptWithStringParameterSet
		// ([PS51] engine/CommandCompletion/CommandCompletion.cs l.445–473):
		// TabExpansion2 with three AddArguments (input, cursor, options =
		// null) through PowerShell.Invoke; failures are swallowed, and
		// exactly one CommandCompletion is expected.
		input := "Get-CsOnl"
		r := c.invoke(createPipelineFor(pipelineSpec{noInput: true, streamOptions: 15}, []winCmd{{cmd: "TabExpansion2",
			args: []winArg{{"", str(input)}, {"", i32(len(input))}, {"", nilValue}}}}))
		out := r.outputs(t)
		if r.state != psrp.PipelineCompleted || len(out) != 1 {
			t.Fatalf("TabExpansion2: state %v, %d results; Tab would complete nothing", r.state, len(out))
		}
		o, _ := out[0].(*psobject.Object)
		if o == nil || !o.IsA("System.Management.Automation.CommandCompletion") {
			t.Fatalf("TabExpansion2 returned %#v, want a CommandCompletion", out[0])
		}
		matches, _ := prop(o, "CompletionMatches").([]any)
		var texts []string
		for _, m := range matches {
			if mo, ok := m.(*psobject.Object); ok {
				texts = append(texts, fmt.Sprint(prop(mo, "CompletionText")))
			}
		}
		if !containsFold(texts, "Get-CsOnlineUser") || intOf(prop(o, "ReplacementIndex")) != 0 || intOf(prop(o, "ReplacementLength")) != int64(len(input)) {
			t.Errorf("completion of %q = %v, index %v length %v; want Get-CsOnlineUser replacing 0..%d",
				input, texts, prop(o, "ReplacementIndex"), prop(o, "ReplacementLength"), len(input))
		}
	})

	t.Run("exit", func(t *testing.T) {
		k.t = t
		k.line("exit")
		if !k.popped {
			t.Fatal("exit (Exit-PSSession) sent no PopRunspace host call: the console stays in the remote session")
		}
	})
	t.Logf("the console:\n%s", k.text.String())
}
