package psrp

import (
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// HostInfo describes the client's host ([MS-PSRP] §2.2.3.14). A host call
// is only possible when the host and its UI are not null.
type HostInfo struct {
	IsHostNull      bool
	IsHostUINull    bool
	IsHostRawUINull bool
	UseRunspaceHost bool
	// BufferWidth and BufferHeight are the console buffer size from
	// _hostDefaultData (key 5), zero when the client sent none. Output
	// rendered for Enter-PSSession wraps at BufferWidth.
	BufferWidth, BufferHeight int32
	// WindowWidth and WindowHeight are the window size (key 6).
	WindowWidth, WindowHeight int32
	// Colors are the console colours (keys 0 and 1), for Write-Host.
	Colors HostColors
}

// HasUI reports whether the server may send host calls that reach a UI.
func (h HostInfo) HasUI() bool { return !h.IsHostNull && !h.IsHostUINull }

// parseHostInfo reads a HostInfo object. A missing or Nil HostInfo is a
// null host.
func parseHostInfo(f fields, name string) (HostInfo, error) {
	null := HostInfo{IsHostNull: true, IsHostUINull: true, IsHostRawUINull: true, UseRunspaceHost: true}
	if v, ok := f.get(name); !ok || v == nil {
		return null, nil
	}
	h, err := f.sub(name)
	if err != nil {
		return null, err
	}
	var hi HostInfo
	if hi.IsHostNull, err = h.boolean("_isHostNull"); err != nil {
		return null, err
	}
	if hi.IsHostUINull, err = h.boolean("_isHostUINull"); err != nil {
		return null, err
	}
	if hi.IsHostRawUINull, err = h.boolean("_isHostRawUINull"); err != nil {
		return null, err
	}
	if hi.UseRunspaceHost, err = h.boolean("_useRunspaceHost"); err != nil {
		return null, err
	}
	if v, ok := h.get("_hostDefaultData"); ok && v != nil {
		dd, err := h.sub("_hostDefaultData")
		if err != nil {
			return null, err
		}
		data, ok := dd.get("data")
		dict, isDict := data.(*psobject.Dict)
		if !ok || !isDict {
			return null, badf(f.t, "HostInfo _hostDefaultData has no data dictionary")
		}
		hi.BufferWidth, hi.BufferHeight = hostSize(dict, 5)
		hi.WindowWidth, hi.WindowHeight = hostSize(dict, 6)
		hi.Colors = hostColors(dict)
	}
	return hi, nil
}

// hostSize reads a Size entry {T, V{width, height}} of _hostDefaultData.
// Malformed entries read as zero: the data is advisory.
func hostSize(d *psobject.Dict, key int64) (width, height int32) {
	for _, en := range d.Entries {
		if k, ok := asInt(en.Key); !ok || k != key {
			continue
		}
		entry, ok := en.Value.(*psobject.Object)
		if !ok {
			return 0, 0
		}
		v, _ := entry.Get("V")
		size, ok := v.(*psobject.Object)
		if !ok {
			return 0, 0
		}
		w, _ := size.Get("width")
		h, _ := size.Get("height")
		wi, _ := asInt(w)
		he, _ := asInt(h)
		if wi < 0 || wi > 1<<20 || he < 0 || he > 1<<20 {
			return 0, 0
		}
		return int32(wi), int32(he)
	}
	return 0, 0
}

// InitRunspacePool is an INIT_RUNSPACEPOOL payload ([MS-PSRP] §2.2.2.2).
type InitRunspacePool struct {
	MinRunspaces, MaxRunspaces int32
	// PSThreadOptions and ApartmentState are the enum values.
	PSThreadOptions int32
	ApartmentState  int32
	HostInfo        HostInfo
	// ApplicationArguments is the PSPrimitiveDictionary the client sent
	// ($PSSenderInfo.ApplicationArguments), nil when Nil.
	ApplicationArguments *psobject.Dict
}

// ParseInitRunspacePool parses INIT_RUNSPACEPOOL.
func ParseInitRunspacePool(data []byte, lim clixml.Limits) (InitRunspacePool, error) {
	const t = MsgInitRunspacePool
	var m InitRunspacePool
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return m, err
	}
	if m.MinRunspaces, err = f.int32("MinRunspaces"); err != nil {
		return m, err
	}
	if m.MaxRunspaces, err = f.int32("MaxRunspaces"); err != nil {
		return m, err
	}
	opts, err := f.optInteger("PSThreadOptions")
	if err != nil {
		return m, err
	}
	apartment, err := f.optInteger("ApartmentState")
	if err != nil {
		return m, err
	}
	m.PSThreadOptions, m.ApartmentState = int32(opts), int32(apartment)
	if m.HostInfo, err = parseHostInfo(f, "HostInfo"); err != nil {
		return m, err
	}
	if v, ok := f.get("ApplicationArguments"); ok && v != nil {
		d, ok := v.(*psobject.Dict)
		if !ok {
			return m, badf(t, "property ApplicationArguments is %s, not a dictionary", kind(v))
		}
		m.ApplicationArguments = d
	}
	return m, nil
}

// ConnectRunspacePool is a CONNECT_RUNSPACEPOOL payload ([MS-PSRP]
// §2.2.2.30); clients that do not change the pool size send an empty
// string.
type ConnectRunspacePool struct {
	HasMinMax                  bool
	MinRunspaces, MaxRunspaces int32
}

// ParseConnectRunspacePool parses CONNECT_RUNSPACEPOOL.
func ParseConnectRunspacePool(data []byte, lim clixml.Limits) (ConnectRunspacePool, error) {
	const t = MsgConnectRunspacePool
	v, err := clixml.Unmarshal(data, lim)
	if err != nil {
		return ConnectRunspacePool{}, decodeErr(t, err)
	}
	o, ok := v.(*psobject.Object)
	if !ok {
		return ConnectRunspacePool{}, nil // <S />
	}
	f := fields{t: t, o: o}
	var c ConnectRunspacePool
	if _, ok := f.get("MinRunspaces"); !ok {
		return c, nil
	}
	c.HasMinMax = true
	if c.MinRunspaces, err = f.int32("MinRunspaces"); err != nil {
		return c, err
	}
	c.MaxRunspaces, err = f.int32("MaxRunspaces")
	return c, err
}

// SetRunspaces is a SET_MAX_RUNSPACES or SET_MIN_RUNSPACES payload.
type SetRunspaces struct {
	Value int32
	// CallID is the "ci" to echo in RUNSPACE_AVAILABILITY.
	CallID int64
}

// ParseSetMaxRunspaces parses SET_MAX_RUNSPACES.
func ParseSetMaxRunspaces(data []byte, lim clixml.Limits) (SetRunspaces, error) {
	return parseSetRunspaces(MsgSetMaxRunspaces, "MaxRunspaces", data, lim)
}

// ParseSetMinRunspaces parses SET_MIN_RUNSPACES.
func ParseSetMinRunspaces(data []byte, lim clixml.Limits) (SetRunspaces, error) {
	return parseSetRunspaces(MsgSetMinRunspaces, "MinRunspaces", data, lim)
}

func parseSetRunspaces(t MessageType, name string, data []byte, lim clixml.Limits) (SetRunspaces, error) {
	var s SetRunspaces
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return s, err
	}
	if s.Value, err = f.int32(name); err != nil {
		return s, err
	}
	s.CallID, err = f.integer("ci")
	return s, err
}

// ParseCallID parses the payload of GET_AVAILABLE_RUNSPACES or
// RESET_RUNSPACE_STATE, which is only a call id.
func ParseCallID(t MessageType, data []byte, lim clixml.Limits) (int64, error) {
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return 0, err
	}
	return f.integer("ci")
}

// NewRunspacePoolState builds RUNSPACEPOOL_STATE. For PoolBroken (and a
// failed Closed) pass the reason; pypsrp reads the first object of the
// member set as the error record, PowerShell shows its exception message.
func NewRunspacePoolState(rpid GUID, state RunspacePoolState, reason *ErrorRecord) (Message, error) {
	o := root(p("RunspaceState", int32(state)))
	if reason != nil {
		o.Extended = append(o.Extended, p("ExceptionAsErrorRecord", reason.object(false)))
	}
	return marshal(MsgRunspacePoolState, rpid, GUID{}, o)
}

// NewRunspacePoolInitData builds RUNSPACEPOOL_INIT_DATA, the server's
// answer to CONNECT_RUNSPACEPOOL.
func NewRunspacePoolInitData(rpid GUID, minRunspaces, maxRunspaces int32) Message {
	return mustMarshal(MsgRunspacePoolInitData, rpid, GUID{}, root(
		p("MinRunspaces", minRunspaces),
		p("MaxRunspaces", maxRunspaces),
	))
}

// NewRunspaceAvailability answers SET_MAX_RUNSPACES or SET_MIN_RUNSPACES
// (and RESET_RUNSPACE_STATE) with success or failure.
func NewRunspaceAvailability(rpid GUID, callID int64, ok bool) Message {
	return mustMarshal(MsgRunspaceAvailability, rpid, GUID{}, root(
		p("SetMinMaxRunspacesResponse", ok),
		p("ci", callID),
	))
}

// NewRunspaceCount answers GET_AVAILABLE_RUNSPACES with the number of
// available runspaces (an <I32>, as the real server sends).
func NewRunspaceCount(rpid GUID, callID int64, available int32) Message {
	return mustMarshal(MsgRunspaceAvailability, rpid, GUID{}, root(
		p("SetMinMaxRunspacesResponse", available),
		p("ci", callID),
	))
}

// Defaults of the PSVersionTable the server advertises: a Windows
// PowerShell 5.1 on Windows Server 2019. PSVersion 5.1 or later makes
// Import-PSSession pass -PowerShellVersion to Get-FormatData.
const (
	DefaultPSVersion    psobject.Version = "5.1.17763.1"
	DefaultBuildVersion psobject.Version = "10.0.17763.1"
	DefaultCLRVersion   psobject.Version = "4.0.30319.42000"
)

// PrivateData is the content of APPLICATION_PRIVATE_DATA.
type PrivateData struct {
	// PSVersion, BuildVersion and CLRVersion of PSVersionTable; empty
	// means the defaults above.
	PSVersion, BuildVersion, CLRVersion psobject.Version
	// CommandsToSkip, when not nil, is sent as ImplicitRemoting.
	// CommandsToSkip: the commands Import-PSSession must not proxy. It
	// replaces the client's default list of seven (Get-Command,
	// Get-FormatData, Get-Help, Select-Object, Measure-Object,
	// Exit-PSSession, Out-Default), so it must name those too when the
	// server has them.
	CommandsToSkip []string
	// Extra holds further top-level entries. Do not add "DebugMode": it
	// makes clients start remote debugging.
	Extra []psobject.DictEntry
}

// NewApplicationPrivateData builds APPLICATION_PRIVATE_DATA with a
// PSVersionTable shaped like a real Windows PowerShell 5.1 server's.
func NewApplicationPrivateData(rpid GUID, pd PrivateData) (Message, error) {
	ps := pd.PSVersion
	if ps == "" {
		ps = DefaultPSVersion
	}
	build := pd.BuildVersion
	if build == "" {
		build = DefaultBuildVersion
	}
	clr := pd.CLRVersion
	if clr == "" {
		clr = DefaultCLRVersion
	}
	primitiveDict := []string{
		"System.Management.Automation.PSPrimitiveDictionary", "System.Collections.Hashtable", "System.Object",
	}
	table := &psobject.Dict{TypeNames: primitiveDict, Entries: []psobject.DictEntry{
		{Key: "PSVersion", Value: ps},
		{Key: "PSEdition", Value: "Desktop"},
		{Key: "PSCompatibleVersions", Value: clixml.List{
			TypeNames: []string{"System.Version[]", "System.Array", "System.Object"},
			Items: []any{psobject.Version("1.0"), psobject.Version("2.0"), psobject.Version("3.0"),
				psobject.Version("4.0"), psobject.Version("5.0"), ps},
		}},
		{Key: "CLRVersion", Value: clr},
		{Key: "BuildVersion", Value: build},
		{Key: "WSManStackVersion", Value: psobject.Version("3.0")},
		{Key: "PSRemotingProtocolVersion", Value: MaxProtocolVersion},
		{Key: "SerializationVersion", Value: SerializationVersion},
	}}
	entries := []psobject.DictEntry{{Key: "PSVersionTable", Value: table}}
	if pd.CommandsToSkip != nil {
		// Import-PSSession reads it with PSPrimitiveDictionary.TryPathGet
		// ("ImplicitRemoting", "CommandsToSkip") as a string[]; a nested
		// dictionary must itself be a PSPrimitiveDictionary.
		skip := make([]any, len(pd.CommandsToSkip))
		for i, n := range pd.CommandsToSkip {
			skip[i] = n
		}
		entries = append(entries, psobject.DictEntry{Key: "ImplicitRemoting", Value: &psobject.Dict{
			TypeNames: primitiveDict,
			Entries: []psobject.DictEntry{{Key: "CommandsToSkip", Value: clixml.List{
				TypeNames: []string{"System.String[]", "System.Array", "System.Object"},
				Items:     skip,
			}}},
		}})
	}
	entries = append(entries, pd.Extra...)
	return marshal(MsgApplicationPrivateData, rpid, GUID{}, root(
		p("ApplicationPrivateData", &psobject.Dict{TypeNames: primitiveDict, Entries: entries}),
	))
}
