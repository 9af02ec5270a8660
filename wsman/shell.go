package wsman

import (
	"strconv"
	"strings"
	"time"
)

// ShellInfo describes a shell as WinRM reports it in rsp:Shell (Create,
// Get, Enumerate). Empty string fields and zero numbers are omitted, except
// the ones WinRM always sends (ShellId, IdleTimeOut, InputStreams,
// OutputStreams, ShellRunTime, ShellInactivity).
type ShellInfo struct {
	ShellID     string
	Name        string
	ResourceURI string
	Owner       string
	ClientIP    string
	ProcessID   int
	// Environment is echoed as rsp:Environment/rsp:Variable in order.
	Environment      []KV
	WorkingDirectory string
	// IdleTimeout is written "PT7200.000S" style, as PowerShell requires.
	IdleTimeout   time.Duration
	InputStreams  []string
	OutputStreams []string

	// PowerShell adds the fields of a PSRP (disconnectable) shell:
	// MaxIdleTimeOut, Locale, DataLocale, CompressionMode, ProfileLoaded,
	// Encoding, BufferMode and State, with WinRM's defaults for empty
	// strings (en-US, NoCompression, Block, Connected).
	PowerShell      bool
	MaxIdleTimeout  time.Duration
	Locale          string
	DataLocale      string
	CompressionMode string // NoCompression | XpressCompression
	BufferMode      string // Block | Drop
	State           string // Connected | Disconnected

	ShellRunTime    time.Duration
	ShellInactivity time.Duration
	// MemoryUsedMB and ChildProcesses appear in Get and Enumerate
	// responses only, as with WinRM ("46MB").
	MemoryUsedMB   int
	ChildProcesses int
}

// CommandInfo is one command of a command enumeration.
type CommandInfo struct {
	CommandID   string
	CommandLine string
	State       string // "Running"; empty means Running
}

// EncodeCreateResponse encodes the response to a Create request: a
// ResourceCreated reference whose w:Selector Name="ShellId" (DMTF namespace)
// is what pywinrm, masterzen and pypsrp read, followed by rsp:Shell. address
// is the URL the request was posted to.
func EncodeCreateResponse(h Header, address string, shell ShellInfo) []byte {
	b := make([]byte, 0, 2048)
	b = appendEnvelopeStart(b, nsShellSet, h, ActionCreateResponse)
	b = append(b, "<x:ResourceCreated>"...)
	b = appendElem(b, "a:Address", address)
	b = append(b, "<a:ReferenceParameters>"...)
	b = appendElem(b, "w:ResourceURI", shell.ResourceURI)
	b = append(b, `<w:SelectorSet><w:Selector Name="ShellId">`...)
	b = appendText(b, shell.ShellID)
	b = append(b, "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"...)
	b = appendShell(b, shell, false)
	return append(b, envClose...)
}

// EncodeGetShell encodes a transfer GetResponse for a shell (pypsrp
// is_alive reads rsp:State).
func EncodeGetShell(h Header, shell ShellInfo) []byte {
	b := make([]byte, 0, 2048)
	b = appendEnvelopeStart(b, nsTransferSet, h, ActionGetResponse)
	b = appendShell(b, shell, true)
	return append(b, envClose...)
}

// EncodeEnumerateShells encodes an optimized EnumerateResponse listing
// shells, complete in one message (w:EndOfSequence, no Pull needed).
func EncodeEnumerateShells(h Header, shells []ShellInfo) []byte {
	b := make([]byte, 0, 1024+1024*len(shells))
	b = appendEnvelopeStart(b, nsEnumSet, h, ActionEnumerateResponse)
	b = append(b, "<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext>"...)
	if len(shells) > 0 {
		b = append(b, "<w:Items>"...)
		for _, s := range shells {
			b = appendShell(b, s, true)
		}
		b = append(b, "</w:Items>"...)
	}
	b = append(b, "<w:EndOfSequence/></n:EnumerateResponse>"...)
	return append(b, envClose...)
}

// EncodeEnumerateCommands encodes an optimized EnumerateResponse listing
// the commands of one shell.
func EncodeEnumerateCommands(h Header, cmds []CommandInfo) []byte {
	b := make([]byte, 0, 1024+256*len(cmds))
	b = appendEnvelopeStart(b, nsEnumSet, h, ActionEnumerateResponse)
	b = append(b, "<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext>"...)
	if len(cmds) > 0 {
		b = append(b, "<w:Items>"...)
		for _, c := range cmds {
			state := c.State
			if state == "" {
				state = "Running"
			}
			b = append(b, `<rsp:Command xmlns:rsp="`+NsShell+`">`...)
			b = appendElem(b, "rsp:CommandId", c.CommandID)
			b = appendElem(b, "rsp:CommandLine", c.CommandLine)
			b = appendElem(b, "rsp:CommandState", state)
			b = append(b, "</rsp:Command>"...)
		}
		b = append(b, "</w:Items>"...)
	}
	b = append(b, "<w:EndOfSequence/></n:EnumerateResponse>"...)
	return append(b, envClose...)
}

// appendShell writes rsp:Shell in WinRM's element order. extended adds
// MemoryUsed and ChildProcesses (Get, Enumerate).
func appendShell(b []byte, s ShellInfo, extended bool) []byte {
	b = append(b, `<rsp:Shell xmlns:rsp="`+NsShell+`">`...)
	b = appendElem(b, "rsp:ShellId", s.ShellID)
	b = appendOptional(b, "rsp:Name", s.Name)
	b = appendOptional(b, "rsp:ResourceUri", s.ResourceURI)
	b = appendOptional(b, "rsp:Owner", s.Owner)
	b = appendOptional(b, "rsp:ClientIP", s.ClientIP)
	if s.ProcessID != 0 {
		b = appendIntElem(b, "rsp:ProcessId", s.ProcessID)
	}
	if len(s.Environment) > 0 {
		b = append(b, "<rsp:Environment>"...)
		for _, v := range s.Environment {
			b = append(b, "<rsp:Variable"...)
			b = appendAttr(b, "Name", v.Key)
			b = append(b, '>')
			b = appendText(b, v.Value)
			b = append(b, "</rsp:Variable>"...)
		}
		b = append(b, "</rsp:Environment>"...)
	}
	b = appendOptional(b, "rsp:WorkingDirectory", s.WorkingDirectory)
	b = append(b, "<rsp:IdleTimeOut>"...)
	b = appendDuration(b, s.IdleTimeout)
	b = append(b, "</rsp:IdleTimeOut>"...)
	b = appendElem(b, "rsp:InputStreams", strings.Join(s.InputStreams, " "))
	b = appendElem(b, "rsp:OutputStreams", strings.Join(s.OutputStreams, " "))
	if s.PowerShell {
		b = append(b, "<rsp:MaxIdleTimeOut>"...)
		b = appendDuration(b, s.MaxIdleTimeout)
		b = append(b, "</rsp:MaxIdleTimeOut>"...)
		b = appendElem(b, "rsp:Locale", orDefault(s.Locale, "en-US"))
		b = appendElem(b, "rsp:DataLocale", orDefault(s.DataLocale, "en-US"))
		b = appendElem(b, "rsp:CompressionMode", orDefault(s.CompressionMode, "NoCompression"))
		b = append(b, "<rsp:ProfileLoaded>Yes</rsp:ProfileLoaded><rsp:Encoding>UTF8</rsp:Encoding>"...)
		b = appendElem(b, "rsp:BufferMode", orDefault(s.BufferMode, "Block"))
		b = appendElem(b, "rsp:State", orDefault(s.State, "Connected"))
	}
	b = append(b, "<rsp:ShellRunTime>"...)
	b = appendDayTime(b, s.ShellRunTime)
	b = append(b, "</rsp:ShellRunTime><rsp:ShellInactivity>"...)
	b = appendDayTime(b, s.ShellInactivity)
	b = append(b, "</rsp:ShellInactivity>"...)
	if extended {
		b = append(b, "<rsp:MemoryUsed>"...)
		b = strconv.AppendInt(b, int64(s.MemoryUsedMB), 10)
		b = append(b, "MB</rsp:MemoryUsed>"...)
		b = appendIntElem(b, "rsp:ChildProcesses", s.ChildProcesses)
	}
	return append(b, "</rsp:Shell>"...)
}

func appendOptional(b []byte, tag, text string) []byte {
	if text == "" {
		return b
	}
	return appendElem(b, tag, text)
}

func appendIntElem(b []byte, tag string, v int) []byte {
	b = append(b, '<')
	b = append(b, tag...)
	b = append(b, '>')
	b = strconv.AppendInt(b, int64(v), 10)
	b = append(b, "</"...)
	b = append(b, tag...)
	return append(b, '>')
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
