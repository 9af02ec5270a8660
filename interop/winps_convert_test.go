package interop

// How Windows PowerShell 5.1 turns what the user typed into CREATE_PIPELINE.
//
// This is a stand-in for the real client, which cannot run here. Each rule
// below follows PowerShell's own code and cites it: [PS51] is the tag
// SD/725290 of github.com/PowerShell/PowerShell (the Windows PowerShell 5.1
// sources), paths under src/System.Management.Automation unless they say
// otherwise. Where a rule is a simplification of the real parser it says
// so; anything outside the modelled subset is a test error, never a guess.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// PipelineResultTypes ([PS51] engine/hostifaces/Command.cs l.819–870) is a
// [Flags] enum with sequential values, so Error|Output (3) prints as
// "Warning" — the serializer writes Enum.ToString().
const (
	prtNone   = 0
	prtOutput = 1
	prtError  = 2
)

var prtNames = []string{"None", "Output", "Error", "Warning", "Verbose", "Debug", "Information", "All", "Null"}

// winCmd is one System.Management.Automation.Runspaces.Command.
type winCmd struct {
	cmd           string
	isScript      bool
	useLocalScope *bool // Nil unless set
	// V2 merge fields and the V5 instruction for the error stream, as
	// MergeMyResults sets them (Command.cs l.326–366).
	mergeMy, mergeTo, mergeError int
	mergePrevious                int
	args                         []winArg
	// endOfStatement is Command.IsEndOfStatement: not serialized, it makes
	// PowerShell split the commands into ExtraCmds.
	endOfStatement bool
}

// winArg is a CommandParameter: name "" is Nil (a positional argument).
type winArg struct {
	name  string
	value func(x *cx) string
}

func ptrBool(b bool) *bool { return &b }

var nilValue = lit(xNil("V"))

func i32(v int) func(*cx) string { return lit(xI32("V", v)) }

func boolV(v bool) func(*cx) string { return lit(xB("V", v)) }

// ---------------------------------------------------------------------------
// ScriptBlock.GetPowerShell ([PS51] engine/runtime/ScriptBlockToPowerShell.cs)

// convertError is ScriptBlockToPowerShellNotSupportedException: the caller
// then sends the text as a script.
type convertError struct{ id string }

func (e *convertError) Error() string { return "GetPowerShell: " + e.id }

// unmodeled marks input outside the subset this model understands.
type unmodeled struct{ what string }

func (e *unmodeled) Error() string { return "winps model: cannot model " + e.what }

type tokKind int

const (
	tkWord tokKind = iota // a generic (bareword) token
	tkParam
	tkString
	tkNumber
	tkVar
	tkSplat
	tkPipe
	tkSemi
	tkAssign
	tkBrace
	tkAmp
	tkDot
	tkExpr // (…), @(…), @{…}, [type] — expressions the model does not evaluate
)

type psTok struct {
	kind       tokKind
	text       string // name for params, variables and splats; value otherwise
	colon      bool   // -Name:
	spaceAfter bool
}

// tokenize is a small subset of PowerShell's tokenizer in command mode.
func tokenize(line string) ([]psTok, error) {
	var toks []psTok
	rs := []rune(line)
	isDelim := func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(";|(){}", r) }
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			if len(toks) > 0 {
				toks[len(toks)-1].spaceAfter = true
			}
			i++
			continue
		case r == ';':
			toks = append(toks, psTok{kind: tkSemi})
			i++
		case r == '|':
			toks = append(toks, psTok{kind: tkPipe})
			i++
		case r == '{' || r == '}':
			toks = append(toks, psTok{kind: tkBrace, text: string(r)})
			i++
		case r == '(' || r == ')' || r == '[' || r == ',':
			toks = append(toks, psTok{kind: tkExpr, text: string(r)})
			i++
		case r == '=':
			toks = append(toks, psTok{kind: tkAssign})
			i++
		case r == '&':
			toks = append(toks, psTok{kind: tkAmp})
			i++
		case r == '.' && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])):
			toks = append(toks, psTok{kind: tkDot})
			i++
		case r == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(rs); j++ {
				if rs[j] == '\'' {
					if j+1 < len(rs) && rs[j+1] == '\'' {
						b.WriteRune('\'')
						j++
						continue
					}
					break
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, &unmodeled{"an unterminated string"}
			}
			toks = append(toks, psTok{kind: tkString, text: b.String()})
			i = j + 1
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '$' || rs[j] == '`' {
					return nil, &unmodeled{"an expandable string"}
				}
				j++
			}
			if j >= len(rs) {
				return nil, &unmodeled{"an unterminated string"}
			}
			toks = append(toks, psTok{kind: tkString, text: string(rs[i+1 : j])})
			i = j + 1
		case r == '$' || r == '@':
			if r == '@' && i+1 < len(rs) && (rs[i+1] == '{' || rs[i+1] == '(') {
				toks = append(toks, psTok{kind: tkExpr, text: "@" + string(rs[i+1])})
				i += 2
				continue
			}
			j := i + 1
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == ':') {
				j++
			}
			kind := tkVar
			if r == '@' {
				kind = tkSplat
			}
			toks = append(toks, psTok{kind: kind, text: string(rs[i+1 : j])})
			i = j
		case r == '-' && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			j := i + 1
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_') {
				j++
			}
			t := psTok{kind: tkParam, text: string(rs[i+1 : j])}
			if j < len(rs) && rs[j] == ':' {
				t.colon = true
				j++
			}
			toks = append(toks, t)
			i = j
		default:
			j := i
			for j < len(rs) && !isDelim(rs[j]) {
				j++
			}
			w := string(rs[i:j])
			kind := tkWord
			if _, err := strconv.ParseInt(w, 10, 32); err == nil {
				kind = tkNumber
			}
			toks = append(toks, psTok{kind: kind, text: w})
			i = j
		}
	}
	return toks, nil
}

// sbScope holds what a converted script block may reference: the values of
// its param() variables (GetPowerShell's args, bound by
// BindArgumentsForScripblockInvoke, l.270–292) and of $using: expressions
// (GetUsingValues, l.258–264). A value is a string, a func(*cx) string
// (one serialized value), a []winArg hashtable (ordered) or a
// []func(*cx) string array.
type sbScope struct {
	params map[string]any
	using  map[string]any
}

// getPowerShell is ScriptBlock.GetPowerShell(context, isTrustedInput,
// useLocalScope, args) ([PS51] engine/lang/scriptblock.cs l.337,
// CompiledScriptBlock.cs l.602 → ScriptBlockToPowerShellConverter.Convert,
// ScriptBlockToPowerShell.cs l.228). It returns the PSCommand's commands,
// with IsEndOfStatement on the last command of every statement but the
// last, or a *convertError when PowerShell refuses the conversion.
func getPowerShell(text string, useLocalScope *bool, scope sbScope) ([]winCmd, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	var statements [][]psTok
	cur := []psTok{}
	for _, t := range toks {
		if t.kind == tkSemi {
			statements = append(statements, cur)
			cur = []psTok{}
			continue
		}
		cur = append(cur, t)
	}
	statements = append(statements, cur)
	var nonEmpty [][]psTok
	for _, st := range statements {
		if len(st) > 0 {
			nonEmpty = append(nonEmpty, st)
		}
	}
	// ScriptBlockAst.GetSimplePipeline(allowMultiplePipelines: true)
	// ([PS51] engine/parser/ast.cs l.1522–1560), called from Convert
	// (l.242): an empty block or any statement that is not a pipeline
	// (an assignment, if, foreach, …) cannot be converted; several
	// pipelines can.
	if len(nonEmpty) == 0 {
		return nil, &convertError{"CantConvertEmptyPipeline"}
	}
	for _, st := range nonEmpty {
		if len(st) > 1 && st[0].kind == tkVar && st[1].kind == tkAssign {
			return nil, &convertError{"CanOnlyConvertOnePipeline"}
		}
		for _, t := range st {
			switch t.kind {
			case tkBrace:
				// VisitScriptBlockExpression (l.147–156).
				return nil, &convertError{"CantConvertWithScriptBlocks"}
			case tkAssign:
				return nil, &unmodeled{"'=' inside a pipeline"}
			}
		}
	}
	var out []winCmd
	for si, st := range nonEmpty {
		// foreach pipeline: AddStatement(); ConvertPipeline(…) (l.298–302).
		// PowerShell.AddStatement marks the previous command as the end of
		// its statement ([PS51] engine/hostifaces/PowerShell.cs l.1486–1500).
		if si > 0 {
			out[len(out)-1].endOfStatement = true
		}
		var elems [][]psTok
		cur := []psTok{}
		for _, t := range st {
			if t.kind == tkPipe {
				elems = append(elems, cur)
				cur = []psTok{}
				continue
			}
			cur = append(cur, t)
		}
		elems = append(elems, cur)
		for _, el := range elems {
			c, err := convertCommand(el, useLocalScope, scope)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// convertCommand is ConvertCommand (l.540–696) plus the checks the
// ScriptBlockToPowerShellChecker makes on the same command (l.34–145).
func convertCommand(el []psTok, useLocalScope *bool, scope sbScope) (winCmd, error) {
	if len(el) == 0 {
		return winCmd{}, &unmodeled{"an empty pipeline element"}
	}
	var name string
	rest := el[1:]
	switch el[0].kind {
	case tkWord:
		// GetCommandName: a bareword is the command name as typed
		// (l.728 commandNameAst.Extent.Text); aliases such as fl stay
		// aliases and the server resolves them.
		name = el[0].text
	case tkDot:
		// VisitCommand: InvocationOperator Dot (l.64–72).
		return winCmd{}, &convertError{"CantConvertWithDotSourcing"}
	case tkAmp:
		// & <expression>: GetCommandName evaluates it (l.699–720).
		if len(el) < 2 {
			return winCmd{}, &unmodeled{"& without a command"}
		}
		switch el[1].kind {
		case tkWord, tkString:
			name = el[1].text
		case tkVar:
			v, ok := scope.params[el[1].text].(string)
			if !ok {
				return winCmd{}, &convertError{"CantConvertWithUndeclaredVariables"}
			}
			name = v
		default:
			return winCmd{}, &unmodeled{"& " + el[1].text}
		}
		rest = el[2:]
	default:
		// VisitPipeline: a pipeline that starts with an expression
		// (l.34–59).
		return winCmd{}, &convertError{"CantConvertPipelineStartsWithExpression"}
	}
	// new Command(commandName, isScript: false, useLocalScope:
	// _createLocalScope) (l.545).
	c := winCmd{cmd: name, useLocalScope: useLocalScope}
	for i := 0; i < len(rest); i++ {
		t := rest[i]
		switch t.kind {
		case tkParam:
			// AddParameter(CommandParameterAst) (l.771–797): the name keeps
			// its dash; "-Name:" or "-Name: " when the argument is part of
			// the parameter, "-Name" with a null value otherwise — the value
			// typed after a space is then a separate element, sent as a
			// positional argument.
			if !t.colon {
				c.args = append(c.args, winArg{"-" + t.text, nilValue})
				continue
			}
			if i+1 >= len(rest) {
				return winCmd{}, &unmodeled{"-" + t.text + ": without an argument"}
			}
			suffix := ":"
			if t.spaceAfter {
				suffix = ": "
			}
			i++
			v, err := argumentValue(rest[i], scope)
			if err != nil {
				return winCmd{}, err
			}
			c.args = append(c.args, winArg{"-" + t.text + suffix, v})
		case tkSplat:
			args, err := splat(t.text, scope)
			if err != nil {
				return winCmd{}, err
			}
			c.args = append(c.args, args...)
		default:
			v, err := argumentValue(t, scope)
			if err != nil {
				return winCmd{}, err
			}
			// _powershell.AddArgument(argument) (l.683).
			c.args = append(c.args, winArg{"", v})
		}
	}
	return c, nil
}

// argumentValue is the value of one expression element (l.644–683): a
// numeric constant is sent as its value, anything else through
// GetSafeValue/GetExpressionValue.
func argumentValue(t psTok, scope sbScope) (func(*cx) string, error) {
	switch t.kind {
	case tkWord, tkString:
		return str(t.text), nil
	case tkNumber:
		n, _ := strconv.Atoi(t.text)
		return i32(n), nil
	case tkVar:
		switch strings.ToLower(t.text) {
		case "true":
			return boolV(true), nil
		case "false":
			return boolV(false), nil
		case "null":
			return nilValue, nil
		}
		if strings.HasPrefix(strings.ToLower(t.text), "using:") {
			// A $using: argument: _powershell.AddArgument(usingValue)
			// (l.626–635).
			v, ok := scope.using[t.text[len("using:"):]].(func(*cx) string)
			if !ok {
				return nil, &unmodeled{"$" + t.text}
			}
			return v, nil
		}
		if v, ok := scope.params[t.text]; ok {
			if f, ok := v.(func(*cx) string); ok {
				return f, nil
			}
			if s, ok := v.(string); ok {
				return str(s), nil
			}
			return nil, &unmodeled{"$" + t.text + " of a collection type"}
		}
		// VisitVariableExpression: only $true, $false, $null, parameters
		// and automatic safe variables (l.125–145).
		return nil, &convertError{"CantConvertWithUndeclaredVariables"}
	default:
		return nil, &unmodeled{fmt.Sprintf("argument %q", t.text)}
	}
}

// splat converts @name.
func splat(name string, scope sbScope) ([]winArg, error) {
	if strings.HasPrefix(strings.ToLower(name), "using:") {
		// @using:h with a dictionary: _powershell.AddParameters(parameters)
		// (l.603–613), which adds each entry with its key as the plain
		// parameter name ([PS51] engine/hostifaces/PowerShell.cs
		// l.1399–1430); an array adds each element as an argument
		// (l.615–624).
		switch v := scope.using[name[len("using:"):]].(type) {
		case []winArg:
			return v, nil
		case []func(*cx) string:
			var out []winArg
			for _, e := range v {
				out = append(out, winArg{"", e})
			}
			return out, nil
		}
		return nil, &unmodeled{"@" + name}
	}
	v, ok := scope.params[name]
	if !ok {
		// The variable is checked like any other (l.125–145).
		return nil, &convertError{"CantConvertWithUndeclaredVariables"}
	}
	// GetSplattedVariable (l.736–753): PipelineOps.Splat yields, for a
	// dictionary, one parameter per entry whose text is GetParameterText
	// = "-" + name + ":" ([PS51] engine/runtime/Operations/MiscOps.cs
	// l.297–313, l.347–360), and CommandParameter.FromCommandParameterInternal
	// keeps that text as the name ([PS51] engine/hostifaces/Parameter.cs
	// l.116–134); for an enumerable, one positional argument per element
	// (MiscOps.cs l.316–327, Parameter.cs l.139–140).
	switch v := v.(type) {
	case []winArg:
		var out []winArg
		for _, a := range v {
			out = append(out, winArg{"-" + a.name + ":", a.value})
		}
		return out, nil
	case []func(*cx) string:
		var out []winArg
		for _, e := range v {
			out = append(out, winArg{"", e})
		}
		return out, nil
	}
	return nil, &unmodeled{"@" + name + " of a scalar"}
}

// ---------------------------------------------------------------------------
// Invoke-Command, the console's Executor and Import-PSSession's proxies

// invokeCommandPipeline is what Invoke-Command -Session sends for a script
// block against a 5.1 server: ConvertToPowerShell → GetPowerShell(
// isTrustedInput, args) ([PS51] engine/remoting/commands/PSRemotingCmdlet.cs
// l.2119–2140), else AddScript(text) plus the arguments and the
// using-values under --% (l.2054–2117). The commands go into a
// RemotePipeline with RedirectShellErrorOutputPipe = true (l.1688–1711).
func invokeCommandPipeline(t testing.TB, script string, scope sbScope) []winCmd {
	t.Helper()
	cmds, err := getPowerShell(script, nil, scope)
	var ce *convertError
	switch {
	case err == nil:
		return cmds
	case asConvertError(err, &ce):
		if len(scope.params) > 0 || len(scope.using) > 0 {
			t.Fatalf("winps model: AddScript with arguments or using-values is not modelled (%s)", script)
		}
		return []winCmd{{cmd: script, isScript: true}}
	default:
		t.Fatal(err)
		return nil
	}
}

func asConvertError(err error, target **convertError) bool {
	ce, ok := err.(*convertError)
	if ok {
		*target = ce
	}
	return ok
}

// consoleLine is what Enter-PSSession's console host sends for a typed
// line: RunspaceRef.CreatePipeline ([PS51] engine/remoting/client/
// RunspaceRef.cs l.180–249) rewrites `exit` to Exit-PSSession, converts the
// line with GetPowerShell(useLocalScope: null) or, when that fails, sends
// it as one script Command(line, isScript: true) (l.207–211, RemotePipeline
// l.132–138, Command.cs l.38–41: UseLocalScope stays null). Then
// Executor.ExecuteCommandHelper with AddOutputter ([PS51]
// Microsoft.PowerShell.ConsoleHost/host/msh/Executor.cs l.352–401) adds the
// merges and Out-Default.
func consoleLine(t testing.TB, line string) []winCmd {
	t.Helper()
	if strings.EqualFold(strings.TrimSpace(line), "exit") {
		line = "Exit-PSSession"
	}
	cmds, err := getPowerShell(line, nil, sbScope{})
	var ce *convertError
	switch {
	case err == nil:
	case asConvertError(err, &ce):
		cmds = []winCmd{{cmd: line, isScript: true}}
	default:
		t.Fatal(err)
	}
	return executorAddOutputter(cmds)
}

// outDefault is Executor.GetOutDefaultCommand (Executor.cs l.341–350):
// new Command("Out-Default", isScript: false, useLocalScope: true,
// mergeUnclaimedPreviousErrorResults: true), which sets
// MergeUnclaimedPreviousCommandResults = Error | Output (Command.cs
// l.77–84).
func outDefault(endOfStatement bool) winCmd {
	return winCmd{cmd: "Out-Default", useLocalScope: ptrBool(true), mergePrevious: prtOutput | prtError, endOfStatement: endOfStatement}
}

// executorAddOutputter is ExecuteCommandHelper's AddOutputter branch
// (Executor.cs l.360–401).
func executorAddOutputter(cmds []winCmd) []winCmd {
	if len(cmds) < 2 {
		if len(cmds) == 1 {
			// Commands[0].MergeMyResults(Error, Output) (l.367); see
			// Command.cs l.356–366 for the three fields it sets.
			cmds[0].mergeMy, cmds[0].mergeTo, cmds[0].mergeError = prtError, prtOutput, prtOutput
		}
		return append(cmds, outDefault(false))
	}
	// Two or more commands: no merge; Out-Default after every statement
	// and one at the end unless the last command is Out-Default.
	var out []winCmd
	for _, c := range cmds {
		eos := c.endOfStatement
		c.endOfStatement = false
		out = append(out, c)
		if eos {
			out = append(out, outDefault(true))
		}
	}
	if !strings.EqualFold(out[len(out)-1].cmd, "Out-Default") {
		out = append(out, outDefault(false))
	}
	return out
}

// proxyPipeline is what a function generated by Import-PSSession sends.
// CommandProxyTemplate ([PS51] Microsoft.PowerShell.Commands.Utility/
// commands/utility/ImplicitRemotingCommands.cs l.2825–2863) moves the
// positionally bound values into $positionalArguments, takes the client-side
// parameters out of $PSBoundParameters (AsJob and every common parameter
// except ErrorAction, WarningAction and InformationAction, l.2759–2788), then
// runs Invoke-Command -Arg ('<name>', $PSBoundParameters,
// $positionalArguments) -Script { param($name, $boundParams,
// $unboundParams) & $name @boundParams @unboundParams }. That script block
// goes through GetPowerShell like any other.
func proxyPipeline(t testing.TB, name string, bound []winArg, positional []func(*cx) string) []winCmd {
	t.Helper()
	clientSide := map[string]bool{"asjob": true, "verbose": true, "debug": true, "errorvariable": true, "warningvariable": true,
		"informationvariable": true, "outvariable": true, "outbuffer": true, "pipelinevariable": true}
	var remote []winArg
	for _, a := range bound {
		if !clientSide[strings.ToLower(a.name)] {
			remote = append(remote, a)
		}
	}
	return invokeCommandPipeline(t, "& $name @boundParams @unboundParams", sbScope{params: map[string]any{
		"name": name, "boundParams": remote, "unboundParams": positional,
	}})
}

// switchParameter is a bound [switch] as the serializer writes a
// SwitchParameter: an object with IsPresent.
func switchParameter(present bool) func(*cx) string {
	return func(x *cx) string {
		text := "False"
		if present {
			text = "True"
		}
		return x.obj("V", x.typeNames("System.Management.Automation.SwitchParameter", "System.ValueType", "System.Object")+
			"<ToString>"+text+"</ToString><Props>"+xB("IsPresent", present)+"</Props>")
	}
}

// actionPreference is a bound -ErrorAction/-WarningAction/-InformationAction.
func actionPreference(name string) func(*cx) string {
	v := map[string]int{"SilentlyContinue": 0, "Stop": 1, "Continue": 2, "Inquire": 3, "Ignore": 4, "Suspend": 5}[name]
	return func(x *cx) string { return x.enum("V", "System.Management.Automation.ActionPreference", name, v) }
}

// ---------------------------------------------------------------------------
// The converter on its own: the shapes are pinned here, without a server.

func TestWinpsGetPowerShell(t *testing.T) {
	show := func(cmds []winCmd) string {
		var b strings.Builder
		for _, c := range cmds {
			x := &cx{}
			fmt.Fprintf(&b, "%s script=%v", c.cmd, c.isScript)
			if c.useLocalScope != nil {
				fmt.Fprintf(&b, " local=%v", *c.useLocalScope)
			}
			if c.mergeMy != 0 {
				fmt.Fprintf(&b, " merge=%d>%d/%d", c.mergeMy, c.mergeTo, c.mergeError)
			}
			if c.mergePrevious != 0 {
				fmt.Fprintf(&b, " prev=%d", c.mergePrevious)
			}
			for _, a := range c.args {
				n := "Nil"
				if a.name != "" {
					n = strconv.Quote(a.name)
				}
				fmt.Fprintf(&b, " {%s %s}", n, a.value(x))
			}
			if c.endOfStatement {
				b.WriteString(" ;")
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	for _, tc := range []struct {
		line string
		want string
	}{
		{"Get-CsOnlineUser -Identity carol@contoso.test | fl",
			"Get-CsOnlineUser script=false {\"-Identity\" <Nil N=\"V\" />} {Nil <S N=\"V\">carol@contoso.test</S>}\n" +
				"fl script=false\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"Set-CsUser carol@contoso.test -Department Sales -PassThru",
			"Set-CsUser script=false merge=2>1/1 {Nil <S N=\"V\">carol@contoso.test</S>} {\"-Department\" <Nil N=\"V\" />} {Nil <S N=\"V\">Sales</S>} {\"-PassThru\" <Nil N=\"V\" />}\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"Get-CsOnlineUser -Identity:carol@contoso.test",
			"Get-CsOnlineUser script=false merge=2>1/1 {\"-Identity:\" <S N=\"V\">carol@contoso.test</S>}\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"Get-CsOnlineUser -Identity: 'carol@contoso.test'",
			"Get-CsOnlineUser script=false merge=2>1/1 {\"-Identity: \" <S N=\"V\">carol@contoso.test</S>}\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"Get-CsTenant; Get-CsOnlineUser -ResultSize 2",
			"Get-CsTenant script=false\n" +
				"Out-Default script=false local=true prev=3 ;\n" +
				"Get-CsOnlineUser script=false {\"-ResultSize\" <Nil N=\"V\" />} {Nil <I32 N=\"V\">2</I32>}\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"$p = @{Identity='carol@contoso.test'}; Get-CsOnlineUser @p",
			"$p = @{Identity='carol@contoso.test'}; Get-CsOnlineUser @p script=true merge=2>1/1\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"Get-CsOnlineUser | Where-Object { $_.Department -eq 'Sales' }",
			"Get-CsOnlineUser | Where-Object { $_.Department -eq 'Sales' } script=true merge=2>1/1\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"'carol@contoso.test' | Get-CsOnlineUser",
			"'carol@contoso.test' | Get-CsOnlineUser script=true merge=2>1/1\n" +
				"Out-Default script=false local=true prev=3\n"},
		{"exit", "Exit-PSSession script=false merge=2>1/1\nOut-Default script=false local=true prev=3\n"},
	} {
		if got := show(consoleLine(t, tc.line)); got != tc.want {
			t.Errorf("Enter-PSSession line %q:\ngot\n%swant\n%s", tc.line, got, tc.want)
		}
	}

	// Invoke-Command: no Executor, and the splat forms.
	for _, tc := range []struct {
		what string
		cmds []winCmd
		want string
	}{
		{"icm { Get-CsTenant }", invokeCommandPipeline(t, "Get-CsTenant", sbScope{}), "Get-CsTenant script=false\n"},
		{"icm { Get-CsOnlineUser @using:p }", invokeCommandPipeline(t, "Get-CsOnlineUser @using:p", sbScope{using: map[string]any{
			"p": []winArg{{"Identity", str("carol@contoso.test")}}}}),
			"Get-CsOnlineUser script=false {\"Identity\" <S N=\"V\">carol@contoso.test</S>}\n"},
		{"icm { param($p) Get-CsOnlineUser @p } -Args @{Identity=…}", invokeCommandPipeline(t, "Get-CsOnlineUser @p", sbScope{params: map[string]any{
			"p": []winArg{{"Identity", str("carol@contoso.test")}}}}),
			"Get-CsOnlineUser script=false {\"-Identity:\" <S N=\"V\">carol@contoso.test</S>}\n"},
		{"proxy Set-CsUser carol -Department Sales -PassThru -Verbose", proxyPipeline(t, "Set-CsUser",
			[]winArg{{"Department", str("Sales")}, {"PassThru", switchParameter(true)}, {"Verbose", switchParameter(true)}},
			[]func(*cx) string{str("carol@contoso.test")}),
			"Set-CsUser script=false {\"-Department:\" <S N=\"V\">Sales</S>} {\"-PassThru:\" <Obj N=\"V\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.SwitchParameter</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>True</ToString><Props><B N=\"IsPresent\">true</B></Props></Obj>} {Nil <S N=\"V\">carol@contoso.test</S>}\n"},
	} {
		if got := show(tc.cmds); got != tc.want {
			t.Errorf("%s:\ngot\n%swant\n%s", tc.what, got, tc.want)
		}
	}
}
