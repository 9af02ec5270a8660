package psrp

import (
	"github.com/psgate/psgate/psobject"
)

// Host calls a server's host UI makes when the client's pipeline has a
// host with a UI (Enter-PSSession). PowerShell's server writes each
// warning, verbose and debug message, progress record and Write-Host line
// both to the pipeline's streams (WARNING_RECORD...) and to the host
// (InternalHostUserInterface.WriteWarningRecord and friends); the console
// shows only the host call.

// HostLine returns the void host call that writes one line through m,
// which must be a one-string method: WriteLine2, WriteErrorLine,
// WriteDebugLine, WriteVerboseLine, WriteWarningLine or Write1. The
// client adds the "WARNING: ", "VERBOSE: " or "DEBUG: " prefix itself.
func HostLine(m HostMethodID, text string) HostCall {
	return HostCall{CallID: VoidCallID, Method: m, Params: []any{text}}
}

// ConsoleColor is a System.ConsoleColor value (0 Black ... 15 White). Host
// calls carry it as a plain Int32, as RemoteHostEncoder encodes enums.
type ConsoleColor int32

// Console colors PowerShell falls back to when a Write-Host colour is not
// known (MshCommandRuntime.WriteInformation).
const (
	ColorBlack ConsoleColor = 0
	ColorGray  ConsoleColor = 7
)

// WriteColored returns WriteLine3 (or Write2 when noNewline): text in the
// given colours, as Write-Host sends it. (Write1 is Write(string), Write2
// Write(foreground, background, string); WriteLine2 and WriteLine3 the
// same with a newline.)
func WriteColored(fg, bg ConsoleColor, text string, noNewline bool) HostCall {
	m := HostWriteLine3
	if noNewline {
		m = HostWrite2
	}
	return HostCall{CallID: VoidCallID, Method: m, Params: []any{int32(fg), int32(bg), text}}
}

// WriteProgress returns the WriteProgress host call (method 20, parameters
// Int64 sourceId and the ProgressRecord as ProgressRecord.ToPSObjectForRemoting
// shapes it, the same object PROGRESS_RECORD carries).
func WriteProgress(sourceID int64, r ProgressRecord) HostCall {
	return HostCall{CallID: VoidCallID, Method: HostWriteProgress, Params: []any{sourceID, r.object()}}
}

// object is the ProgressRecord as ToPSObjectForRemoting writes it: an empty
// PSObject with eight note properties, Activity " " when empty.
func (r ProgressRecord) object() *psobject.Object {
	var op any
	if r.CurrentOperation != "" {
		op = r.CurrentOperation
	}
	typ := enum("System.Management.Automation.ProgressRecordType", "Processing", 0)
	if r.Completed {
		typ = enum("System.Management.Automation.ProgressRecordType", "Completed", 1)
	}
	activity := r.Activity
	if activity == "" {
		activity = " "
	}
	return root(
		p("Activity", activity),
		p("ActivityId", r.ActivityID),
		p("StatusDescription", r.StatusDescription),
		p("CurrentOperation", op),
		p("ParentActivityId", r.ParentActivityID),
		p("PercentComplete", r.PercentComplete),
		p("Type", typ),
		p("SecondsRemaining", r.SecondsRemaining),
	)
}

// HostColors are the console's colours from a HostInfo's _hostDefaultData
// (keys 0 ForegroundColor and 1 BackgroundColor, HostDefaultDataId). A
// server's RawUI answers ForegroundColor from them without a host call;
// Write-Host reads them for the colour it was not given.
type HostColors struct {
	Foreground, Background ConsoleColor
	// Known is false (and the colours zero) when the client sent no
	// default data, or malformed data: use ColorGray on ColorBlack.
	Known bool
}

// hostColors reads the colours of a _hostDefaultData dictionary; missing
// or malformed entries read as unknown, the data being advisory.
func hostColors(d *psobject.Dict) HostColors {
	fg, okF := hostColor(d, 0)
	bg, okB := hostColor(d, 1)
	if !okF || !okB {
		return HostColors{}
	}
	return HostColors{Foreground: fg, Background: bg, Known: true}
}

// hostColor reads a ConsoleColor entry {T, V} of _hostDefaultData.
func hostColor(d *psobject.Dict, key int64) (ConsoleColor, bool) {
	for _, en := range d.Entries {
		if k, ok := asInt(en.Key); !ok || k != key {
			continue
		}
		entry, ok := en.Value.(*psobject.Object)
		if !ok {
			return 0, false
		}
		v, _ := entry.Get("V")
		if e, ok := v.(psobject.Enum); ok {
			v = e.Value
		}
		c, ok := asInt(v)
		if !ok || c < 0 || c > 15 {
			return 0, false
		}
		return ConsoleColor(c), true
	}
	return 0, false
}
