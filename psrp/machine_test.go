package psrp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

var update = flag.Bool("update", false, "rewrite the transcripts of testdata/machine with what the machine answers")

// A transcript (testdata/machine/*.txt) is a script for one ServerPool:
// lines starting "->", or a directive word, are inputs; the lines after
// each input that start "<-", "event", "error" or "=" are what the
// machine answered, which the test checks and -update rewrites. Blank
// lines and "#" comments are kept.
//
//	config maxrunspaces=2 maxbytes=4096 skip=Get-Date,Out-Default
//	-> pool SESSION_CAPABILITY version=2.3       Receive
//	-> P1 CREATE_PIPELINE cmd=Get-Date input      ReceivePipeline(P1, ...)
//	command P1 | abandon P1 | retire P1           NewPipeline, Abandon, Retire
//	signal P1 stop|terminate                      Signal
//	hostcall P1 choice|void                       HostCall (PromptForChoice or WriteLine)
//	finish P1 Completed|Failed|Stopped            Finish
//	connect SESSION_CAPABILITY version=2.3 | CONNECT_RUNSPACEPOOL min=1 max=4
//	close                                         Close
//	state                                         the pool's and pipelines' states
//
// Answers: "<- pool TYPE data" or "<- P1 TYPE data" for messages to the
// client, "event NAME P1 ..." for events, "error CLASS: text" for a
// refusal, "= ..." for state. Data is rendered compactly: objects as
// {Name=value ...}, strings quoted, int64 with an L, versions with a v.
func TestMachineTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "machine", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/machine")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := replay(t, string(data))
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(data) {
				t.Errorf("transcript differs (run go test -run TestMachineTranscripts -update to accept):\n%s", diffLines(got, string(data)))
			}
		})
	}
}

// isAnswer reports whether a transcript line is the machine's, rewritten
// on replay.
func isAnswer(line string) bool {
	for _, p := range []string{"<- ", "event ", "error ", "= "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// transcriptRPID is the pool id of every transcript.
var transcriptRPID = GUID{0x76, 0x05, 0x6A, 0x84, 0x51, 0xDC, 0x4F, 0x24, 0x92, 0x62, 0xCA, 0x2A, 0x55, 0x46, 0x4B, 0x2B}

// pidOf maps a transcript pipeline name (P1...) to its GUID.
func pidOf(name string) (GUID, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "P"))
	if !strings.HasPrefix(name, "P") || err != nil || n < 1 || n > 255 {
		return GUID{}, fmt.Errorf("bad pipeline name %q", name)
	}
	return GUID{15: byte(n)}, nil
}

func nameOf(pid GUID) string {
	if pid.IsZero() {
		return "pool"
	}
	if bytes.Equal(pid[:15], make([]byte, 15)) {
		return "P" + strconv.Itoa(int(pid[15]))
	}
	return pid.String()
}

// machine is a ServerPool under test with a deterministic random source.
type machine struct {
	t    *testing.T
	pool *ServerPool
	out  []string
}

func newMachine(t *testing.T, args map[string]string) *machine {
	cfg := ServerConfig{RPID: transcriptRPID, Rand: &counter{}}
	if v, ok := args["maxrunspaces"]; ok {
		n, _ := strconv.Atoi(v)
		cfg.MaxRunspaces = int32(n)
	}
	if v, ok := args["maxbytes"]; ok {
		cfg.Limits.MaxBytes, _ = strconv.Atoi(v)
	}
	if v, ok := args["skip"]; ok {
		cfg.PrivateData.CommandsToSkip = strings.Split(v, ",")
	}
	return &machine{t: t, pool: NewServerPool(cfg)}
}

// counter is a deterministic random source: 1, 2, 3...
type counter struct{ n byte }

func (c *counter) Read(b []byte) (int, error) {
	for i := range b {
		c.n++
		if c.n == 0 {
			c.n = 1
		}
		b[i] = c.n
	}
	return len(b), nil
}

// replay runs a transcript and returns it with the machine's answers.
func replay(t *testing.T, script string) string {
	return replayWith(t, script, nil)
}

// replayWith is replay calling after, when not nil, once each input line
// has been run and its answers written.
func replayWith(t *testing.T, script string, after func(m *machine, line string)) string {
	var out strings.Builder
	var m *machine
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if isAnswer(line) {
			continue
		}
		out.WriteString(line + "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "config" {
			if m != nil {
				t.Fatalf("config after the first input: %q", line)
			}
			m = newMachine(t, keyValues(fields[1:]))
			continue
		}
		if m == nil {
			m = newMachine(t, nil)
		}
		m.out = m.out[:0]
		if err := m.do(fields); err != nil {
			m.out = append(m.out, "error "+errorClass(err)+": "+err.Error())
		}
		for _, a := range m.out {
			out.WriteString(a + "\n")
		}
		if after != nil {
			after(m, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// do runs one input line.
func (m *machine) do(f []string) error {
	p := m.pool
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		m.t.Fatalf("%q needs more arguments", strings.Join(f, " "))
		return ""
	}
	switch f[0] {
	case "->":
		msg, err := m.build(arg(1), f[2:])
		if err != nil {
			m.t.Fatalf("%q: %v", strings.Join(f, " "), err)
		}
		if arg(1) == "pool" {
			st, err := p.Receive(msg)
			m.step(st)
			return err
		}
		pid, err := pidOf(arg(1))
		if err != nil {
			m.t.Fatal(err)
		}
		st, err := p.ReceivePipeline(pid, msg)
		m.step(st)
		return err
	case "hostcall":
		// hostcall P1 choice|void: the gateway asks the client's host.
		pid, err := pidOf(arg(1))
		if err != nil {
			m.t.Fatal(err)
		}
		c := WriteLine("a line")
		if arg(2) == "choice" {
			c = PromptForChoice("Confirm", "Are you sure?", []ChoiceDescription{{Label: "&Yes", HelpMessage: "yes"}, {Label: "&No", HelpMessage: "no"}}, 0)
		}
		_, msg, err := p.HostCall(pid, p.RPID(), c)
		if err == nil {
			m.step(Step{Send: []Message{msg}})
		}
		return err
	case "command", "abandon", "retire", "signal", "finish":
		pid, err := pidOf(arg(1))
		if err != nil {
			m.t.Fatal(err)
		}
		switch f[0] {
		case "command":
			return p.NewPipeline(pid)
		case "abandon":
			p.Abandon(pid)
		case "retire":
			m.step(Step{Events: []Event{p.Retire(pid)}})
		case "signal":
			sig := map[string]Signal{"stop": SignalStop, "terminate": SignalTerminate}[arg(2)]
			st, err := p.Signal(pid, sig)
			m.step(st)
			return err
		case "finish":
			state := map[string]PipelineState{"Completed": PipelineCompleted, "Failed": PipelineFailed, "Stopped": PipelineStopped}[arg(2)]
			var reason *ErrorRecord
			switch state {
			case PipelineStopped:
				reason = PipelineStoppedError()
			case PipelineFailed:
				reason = &ErrorRecord{Message: "it failed", FullyQualifiedErrorID: "psgate.test", Category: 7}
			}
			msg, err := p.Finish(pid, p.RPID(), state, reason)
			m.step(Step{Send: []Message{msg}})
			return err
		}
	case "connect":
		var msgs []Message
		for _, part := range strings.Split(strings.Join(f[1:], " "), "|") {
			pf := strings.Fields(part)
			msg, err := m.build("pool", pf)
			if err != nil {
				m.t.Fatalf("connect %q: %v", part, err)
			}
			msgs = append(msgs, msg)
		}
		resp, st, err := p.Connect(msgs)
		for _, r := range resp {
			m.out = append(m.out, "<- connect "+render(r))
		}
		m.step(st)
		return err
	case "close":
		m.step(p.Close())
	case "state":
		s := fmt.Sprintf("= pool %v version=%q running=%d max=%d", p.State(), p.Version(), p.Running(), p.MaxPipelines())
		for _, pid := range p.Pipelines() {
			st, final, _ := p.Pipeline(pid)
			s += fmt.Sprintf(" %s:%v", nameOf(pid), st)
			if final {
				s += "(final)"
			}
		}
		m.out = append(m.out, s)
	default:
		m.t.Fatalf("unknown transcript input %q", strings.Join(f, " "))
	}
	return nil
}

// step records what the machine answered.
func (m *machine) step(st Step) {
	for _, ev := range st.Events {
		m.out = append(m.out, "event "+renderEvent(ev))
	}
	for _, msg := range st.Send {
		m.out = append(m.out, "<- "+nameOf(msg.PID)+" "+render(msg))
	}
}

func renderEvent(ev Event) string {
	switch e := ev.(type) {
	case StartPipeline:
		s := "start " + nameOf(e.PID)
		if e.Create != nil {
			var cmds []string
			for _, st := range e.Create.PowerShell.Statements() {
				for _, c := range st {
					cmds = append(cmds, c.Cmd)
				}
			}
			s += fmt.Sprintf(" create=%q noinput=%v", strings.Join(cmds, " | "), e.Create.NoInput)
		}
		if e.Metadata != nil {
			s += fmt.Sprintf(" metadata=%q", strings.Join(e.Metadata.Names, ","))
		}
		return s + fmt.Sprintf(" version=%s ui=%v", e.Version, e.Host().HasUI())
	case PipelineInput:
		return fmt.Sprintf("input %s %s (%d bytes)", nameOf(e.PID), renderValue(e.Value), e.Size)
	case EndOfInput:
		return "end-input " + nameOf(e.PID)
	case StopPipeline:
		return "stop " + nameOf(e.PID)
	case ForgetPipeline:
		return "forget " + nameOf(e.PID)
	case HostAnswer:
		r := e.Response
		if r.Error != nil {
			return fmt.Sprintf("host-answer %s ci=%d mi=%v error=%q", nameOf(e.PID), r.CallID, r.Method, r.ErrorMessage)
		}
		return fmt.Sprintf("host-answer %s ci=%d mi=%v mr=%s", nameOf(e.PID), r.CallID, r.Method, renderValue(r.Return))
	}
	return fmt.Sprintf("%T", ev)
}

// errorClass names the kind of a machine error, as the gateway tells them
// apart.
func errorClass(err error) string {
	var (
		me *MessageError
		ve *VersionError
		se *SecureStringError
	)
	switch {
	case errors.As(err, &ve):
		return "version"
	case errors.As(err, &me):
		return "message"
	case errors.As(err, &se):
		return "secure-string"
	}
	for name, e := range map[string]error{
		"pool-closed": ErrPoolClosed, "pipeline-exists": ErrPipelineExists, "too-many-pipelines": ErrTooManyPipelines,
		"unknown-pipeline": ErrUnknownPipeline, "no-capability": ErrNoCapability,
	} {
		if errors.Is(err, e) {
			return name
		}
	}
	return "other"
}

// render shows a message to the client: its type and compact data.
func render(m Message) string {
	s := m.Type.String()
	if !m.RPID.IsZero() && m.RPID != transcriptRPID {
		s += " rpid=" + m.RPID.String()
	}
	if len(m.Data) == 0 {
		return s
	}
	v, err := clixml.Unmarshal(m.Data, clixml.Limits{})
	if err != nil {
		return s + " !" + err.Error()
	}
	return s + " " + renderValue(v)
}

func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		if len(x) > 48 {
			return strconv.Quote(x[:24]) + "…(" + strconv.Itoa(len(x)) + " chars)"
		}
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.Itoa(int(x))
	case int64:
		return strconv.FormatInt(x, 10) + "L"
	case psobject.Version:
		return "v" + string(x)
	case psobject.Enum:
		return x.Name + "(" + strconv.Itoa(int(x.Value)) + ")"
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case clixml.SecureString:
		return "SecureString"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *psobject.Dict:
		parts := make([]string, len(x.Entries))
		for i, e := range x.Entries {
			parts[i] = renderValue(e.Key) + ":" + renderValue(e.Value)
		}
		return "@{" + strings.Join(parts, " ") + "}"
	case *psobject.Object:
		props := append(slices.Clone(x.Props), x.Extended...)
		if len(props) == 0 {
			return strconv.Quote(x.Text)
		}
		parts := make([]string, len(props))
		for i, p := range props {
			parts[i] = p.Name + "=" + renderValue(p.Value)
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func keyValues(f []string) map[string]string {
	kv := make(map[string]string, len(f))
	for _, a := range f {
		k, v, _ := strings.Cut(a, "=")
		kv[k] = v
	}
	return kv
}

// build makes the message an input line describes. Words after the type
// are key=value arguments; "xml=..." (the rest of the line) gives raw
// data instead.
func (m *machine) build(target string, f []string) (Message, error) {
	if len(f) == 0 {
		return Message{}, errors.New("no message type")
	}
	var t MessageType
	if n, err := strconv.ParseUint(f[0], 0, 32); err == nil {
		t = MessageType(n)
	} else if t = typeNamed(f[0]); t == 0 {
		return Message{}, fmt.Errorf("unknown message type %s", f[0])
	}
	pid := GUID{}
	if target != "pool" {
		var err error
		if pid, err = pidOf(target); err != nil {
			return Message{}, err
		}
	}
	rest := strings.Join(f[1:], " ")
	if x, ok := strings.CutPrefix(rest, "xml="); ok {
		return Message{Destination: DestinationServer, Type: t, RPID: transcriptRPID, PID: pid, Data: []byte(x)}, nil
	}
	a := keyValues(f[1:])
	num := func(k string, def int64) int64 {
		if v, ok := a[k]; ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
		return def
	}
	var v any
	switch t {
	case MsgSessionCapability:
		ver := a["version"]
		if ver == "" {
			ver = "2.3"
		}
		v = root(p("protocolversion", psobject.Version(ver)), p("PSVersion", psobject.Version("2.0")), p("SerializationVersion", SerializationVersion))
	case MsgInitRunspacePool:
		if a["host"] != "ui" {
			return NewInitRunspacePool(transcriptRPID, int32(num("min", 1)), int32(num("max", 1)))
		}
		// A console host, as Enter-PSSession's.
		v = root(p("MinRunspaces", int32(num("min", 1))), p("MaxRunspaces", int32(num("max", 1))),
			p("PSThreadOptions", enum("System.Management.Automation.Runspaces.PSThreadOptions", "Default", 0)),
			p("ApartmentState", enum("System.Threading.ApartmentState", "Unknown", 2)),
			p("HostInfo", root(p("_isHostNull", false), p("_isHostUINull", false), p("_isHostRawUINull", false), p("_useRunspaceHost", false))),
			p("ApplicationArguments", nil))
	case MsgSetMaxRunspaces:
		v = root(p("MaxRunspaces", int32(num("value", 1))), p("ci", num("ci", 1)))
	case MsgSetMinRunspaces:
		v = root(p("MinRunspaces", int32(num("value", 1))), p("ci", num("ci", 1)))
	case MsgGetAvailableRunspaces, MsgResetRunspaceState:
		v = root(p("ci", num("ci", 1)))
	case MsgPublicKey:
		v = root(p("PublicKey", base64.StdEncoding.EncodeToString(testPublicKey(int(num("bits", 2048))))))
	case MsgConnectRunspacePool:
		if _, ok := a["max"]; !ok {
			v = ""
			break
		}
		v = root(p("MinRunspaces", int32(num("min", 1))), p("MaxRunspaces", int32(num("max", 1))))
	case MsgCreatePipeline:
		_, input := a["input"]
		cmd := Command{Cmd: a["cmd"]}
		if _, ok := a["script"]; ok {
			cmd.IsScript = true
		}
		return NewCreatePipeline(transcriptRPID, pid, CreatePipeline{NoInput: !input, ApartmentState: 2, PowerShell: PowerShell{Commands: []Command{cmd}}})
	case MsgGetCommandMetadata:
		var names []any
		for _, n := range strings.Split(a["names"], ",") {
			names = append(names, n)
		}
		v = root(p("Name", clixml.List{TypeNames: []string{"System.String[]", "System.Array", "System.Object"}, Items: names}),
			p("CommandType", enum("System.Management.Automation.CommandTypes", "Alias, Function, Filter, Cmdlet", 15)),
			p("Namespace", nil), p("ArgumentList", nil))
	case MsgPipelineInput:
		if _, ok := a["secure"]; ok {
			v = clixml.SecureString{Ciphertext: []byte{1, 2, 3}}
		} else {
			v = a["value"]
		}
	case MsgEndOfPipelineInput:
		return NewEndOfPipelineInput(transcriptRPID, pid), nil
	case MsgPipelineHostResponse:
		if _, ok := a["ci"]; !ok {
			v = ""
			break
		}
		if name, ok := a["pid"]; ok {
			// On the pool's stream, naming its pipeline, as pypsrp sends it.
			var err error
			if pid, err = pidOf(name); err != nil {
				return Message{}, err
			}
		}
		r := HostResponse{CallID: num("ci", 1), Method: HostMethodID(num("mi", int64(HostPromptForChoice))), Return: int32(num("mr", 0))}
		if msg, ok := a["error"]; ok {
			r.Error = HostErrorRecord(msg)
		}
		return NewPipelineHostResponse(transcriptRPID, pid, r)
	default:
		v = ""
	}
	data, err := clixml.Marshal(v)
	if err != nil {
		return Message{}, err
	}
	return Message{Destination: DestinationServer, Type: t, RPID: transcriptRPID, PID: pid, Data: data}, nil
}

func typeNamed(name string) MessageType {
	for t, n := range messageTypeNames {
		if n == name {
			return t
		}
	}
	return 0
}

// testPublicKey is a CAPI PUBLICKEYBLOB of a fixed RSA modulus (not a real
// key: encryption only needs n and e).
func testPublicKey(bits int) []byte {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(0x1234567))
	b := []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xA4, 0x00, 0x00, 'R', 'S', 'A', '1'}
	b = binary.LittleEndian.AppendUint32(b, uint32(bits))
	b = binary.LittleEndian.AppendUint32(b, 65537)
	mod := n.FillBytes(make([]byte, bits/8))
	for i := len(mod) - 1; i >= 0; i-- {
		b = append(b, mod[i])
	}
	return b
}

// diffLines shows the lines of got and want that differ.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got:  %s\n  want: %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}

// TestMachineTranscriptsCover checks that the transcripts reach every
// message type a client may send, on the stream it belongs to.
func TestMachineTranscriptsCover(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "machine", "*.txt"))
	seen := map[string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "->" {
				seen[f[2]] = true
			}
		}
	}
	var missing []string
	for mt, r := range rules {
		if r.toServer && mt != MsgConnectRunspacePool && !seen[mt.String()] {
			missing = append(missing, mt.String())
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no transcript sends %v", missing)
	}
}
