package clixml

import (
	"bytes"
	"errors"
	"io"

	"github.com/psgate/psgate/internal/xmlscan"
)

// This file is the decoder's fast path. Real clients send plain UTF-8
// CLIXML: no DTD, no namespace prefixes, rarely an entity. For that subset
// xmlscan reads the tokens encoding/xml would return, without its
// allocations per token, and element names, property names and type names
// come from a table rather than a new string each. Anything outside the
// subset makes the fast path decline, and the general path (encoding/xml)
// decodes the input from the start: what xmlscan declines (encodings other
// than UTF-8, DOCTYPE, processing instructions, unknown entities, malformed
// markup), namespace prefixes, a RefId that is not plain digits, and every
// error, limits included. A default namespace (xmlns="...") is taken
// whatever its value: the decoder reads local names only, and attributes
// without a prefix have no namespace in encoding/xml either.
//
// Above the tokens both paths run the same code (decode.go); only
// nextStart, text and skip read tokens, and each has a fast twin here. So
// the values can differ only if the tokens do. FuzzFastUnmarshal checks
// that they never do, and that the general path still returns exactly what
// the decoder did before there was a fast path (legacy_test.go).

// errDecline stops the fast path: the input goes to the general path,
// which decides whether it is an error.
var errDecline = errors.New("clixml: fast path declined")

// newFastDecoder returns a decoder over data through xmlscan, or false
// when data exceeds lim.MaxBytes (an error the general path reports).
func newFastDecoder(data []byte, lim Limits) (*decoder, bool) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, false
	}
	d := newDecoder(lim)
	d.sc.Reset(bytes.TrimPrefix(data, utf8BOM))
	return d, true
}

// unmarshalFast is Unmarshal through the fast path; ok is false when it
// declines.
func unmarshalFast(data []byte, lim Limits) (v any, ok bool) {
	d, ok := newFastDecoder(data, lim)
	if !ok {
		return nil, false
	}
	v, err := d.single()
	if err != nil {
		return nil, false
	}
	return v, true
}

// decodeAllFast decodes every top-level value of data through the fast
// path; ok is false when it declines.
func decodeAllFast(data []byte, lim Limits) (vals []any, ok bool) {
	d, ok := newFastDecoder(data, lim)
	if !ok {
		return nil, false
	}
	for {
		v, err := d.decode()
		if err == io.EOF {
			return vals, true
		}
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
}

// scanNextStart is nextStart on the fast path.
func (d *decoder) scanNextStart(se *start) error {
	for {
		t, ok := d.sc.Next()
		if !ok {
			return errDecline
		}
		switch t.Kind {
		case xmlscan.StartElement:
			return scanStart(se, t)
		case xmlscan.EndElement, xmlscan.EOF:
			return io.EOF
		case xmlscan.CharData:
			if len(bytes.TrimSpace(t.Data)) != 0 {
				return errDecline
			}
		}
	}
}

// scanStart sets st from t as startOf does. Names with a prefix decline:
// encoding/xml resolves them through the namespace declarations in scope,
// which CLIXML never needs.
func scanStart(st *start, t *xmlscan.Token) error {
	if len(t.Name.Prefix) != 0 {
		return errDecline
	}
	*st = start{name: elementName(t.Name.Local)}
	for i := range t.Attr {
		a := &t.Attr[i]
		if len(a.Name.Prefix) != 0 {
			return errDecline
		}
		switch string(a.Name.Local) {
		case "N":
			if !st.hasN {
				st.n, st.hasN = intern(a.Value), true
			}
		case "S":
			if !st.hasS {
				st.s, st.hasS = string(a.Value), true
			}
		case "RefId":
			if !st.hasRef {
				id, ok := plainInt(a.Value)
				if !ok {
					return errDecline // strconv.Atoi decides
				}
				st.hasRef, st.id, st.idParsed = true, id, true
			}
		}
	}
	return nil
}

// plainInt parses one to nine decimal digits, a number strconv.Atoi reads
// the same.
func plainInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// scanText is text on the fast path. The pieces of text are joined in
// d.buf, which the decoder reuses.
func (d *decoder) scanText(tag string) (string, error) {
	buf := d.buf[:0]
	for {
		t, ok := d.sc.Next()
		if !ok {
			return "", errDecline
		}
		switch t.Kind {
		case xmlscan.CharData:
			if len(buf)+len(t.Data) > d.lim.MaxStringLen {
				return "", errDecline
			}
			buf = append(buf, t.Data...)
		case xmlscan.EndElement:
			d.buf = buf
			switch tag {
			case "S", "XD", "SBK", "BA", "SS", "URI":
				return string(buf), nil // data, seldom repeated
			}
			return intern(buf), nil // type names, enum names, numbers
		default:
			return "", errDecline // an element inside text
		}
	}
}

// scanSkip is skip on the fast path.
func (d *decoder) scanSkip() error {
	depth := 0
	for {
		t, ok := d.sc.Next()
		if !ok {
			return errDecline
		}
		switch t.Kind {
		case xmlscan.StartElement:
			depth++
		case xmlscan.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		case xmlscan.EOF:
			return errDecline
		}
	}
}

// elementName returns the element name b as a string, without allocating
// for the elements of CLIXML.
func elementName(b []byte) string {
	switch string(b) {
	case "Obj":
		return "Obj"
	case "MS":
		return "MS"
	case "Props":
		return "Props"
	case "TN":
		return "TN"
	case "T":
		return "T"
	case "TNRef":
		return "TNRef"
	case "ToString":
		return "ToString"
	case "Ref":
		return "Ref"
	case "Nil":
		return "Nil"
	case "LST":
		return "LST"
	case "IE":
		return "IE"
	case "QUE":
		return "QUE"
	case "STK":
		return "STK"
	case "DCT":
		return "DCT"
	case "En":
		return "En"
	case "Objs":
		return "Objs"
	case "S":
		return "S"
	case "XD":
		return "XD"
	case "SBK":
		return "SBK"
	case "C":
		return "C"
	case "B":
		return "B"
	case "DT":
		return "DT"
	case "TS":
		return "TS"
	case "By":
		return "By"
	case "SB":
		return "SB"
	case "U16":
		return "U16"
	case "I16":
		return "I16"
	case "U32":
		return "U32"
	case "I32":
		return "I32"
	case "U64":
		return "U64"
	case "I64":
		return "I64"
	case "Sg":
		return "Sg"
	case "Db":
		return "Db"
	case "D":
		return "D"
	case "BA":
		return "BA"
	case "SS":
		return "SS"
	case "G":
		return "G"
	case "URI":
		return "URI"
	case "Version":
		return "Version"
	}
	return string(b)
}

// intern returns b as a string, sharing one copy of the names and values
// PSRP messages repeat.
func intern(b []byte) string {
	if s, ok := internTable[string(b)]; ok {
		return s
	}
	return string(b)
}

var internTable = func() map[string]string {
	m := make(map[string]string, len(internStrings))
	for _, s := range internStrings {
		m[s] = s
	}
	return m
}()

// internStrings are the property names, type names and short values of the
// messages clients send most: SESSION_CAPABILITY, INIT_RUNSPACEPOOL,
// CREATE_PIPELINE and its commands, host responses.
var internStrings = []string{
	// Property names.
	"protocolversion", "PSVersion", "SerializationVersion", "TimeZone",
	"MinRunspaces", "MaxRunspaces", "PSThreadOptions", "ApartmentState", "HostInfo",
	"ApplicationArguments", "_isHostNull", "_isHostUINull", "_isHostRawUINull",
	"_useRunspaceHost", "_hostDefaultData", "data", "Key", "Value", "T", "V", "N",
	"PowerShell", "NoInput", "RemoteStreamOptions", "AddToHistory", "IsNested",
	"Cmds", "ExtraCmds", "History", "RedirectShellErrorOutputPipe",
	"Cmd", "IsScript", "UseLocalScope", "MergeMyResult", "MergeToResult",
	"MergePreviousResults", "MergeError", "MergeWarning", "MergeVerbose", "MergeDebug",
	"MergeInformation", "Args", "ci", "mi", "mp", "mr", "me",
	"Name", "CommandType", "Namespace", "ArgumentList", "FullyQualifiedModule",
	"PipelineState", "RunspaceState", "ExceptionAsErrorRecord",
	// Type names.
	"System.Object", "System.Enum", "System.ValueType", "System.Array",
	"System.Object[]", "System.String[]", "System.String",
	"System.Collections.Hashtable", "System.Collections.ArrayList",
	"System.Management.Automation.PSPrimitiveDictionary",
	"System.Management.Automation.Runspaces.PSThreadOptions",
	"System.Management.Automation.Runspaces.ApartmentState",
	"System.Threading.ApartmentState",
	"System.Management.Automation.RemoteStreamOptions",
	"System.Management.Automation.Runspaces.PipelineResultTypes",
	"System.Management.Automation.CommandTypes",
	"System.Management.Automation.PSCredential",
	"System.Management.Automation.SwitchParameter",
	"System.Management.Automation.Remoting.RemoteHostMethodId",
	"System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]",
	"System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]",
	// Values: booleans, small numbers, versions and the enum names of
	// PipelineResultTypes, RemoteStreamOptions, ApartmentState,
	// PSThreadOptions and CommandTypes.
	"true", "false", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "15", "16", "32", "64",
	"1.0", "2.0", "2.1", "2.2", "2.3", "1.1.0.1", "5.1",
	"None", "Output", "Error", "Warning", "Verbose", "Debug", "Information", "All", "Null",
	"Output, Error", "AddInvocationInfo", "Default", "Unknown", "UNKNOWN", "STA", "MTA",
	"UseNewThread", "ReuseThread", "UseCurrentThread", "Cmdlet", "Function", "Script", "Alias",
}
