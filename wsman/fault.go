package wsman

import (
	"strconv"
	"strings"
)

// Fault is a WS-Management SOAP fault, laid out as WinRM lays it out
// ([MS-WSMV] §2.2.4.43, [rec:test_winrs_operation_timeout]) plus psgate's
// pg:Error detail. Send it with HTTP 500.
type Fault struct {
	// Code is the SOAP fault code, "s:Sender" or "s:Receiver" (the
	// default).
	Code string
	// Subcode is the WS-Management subcode, e.g. "w:TimedOut",
	// "w:InvalidSelectors", "w:QuotaLimit", "a:ActionNotSupported";
	// omitted when empty. Its prefix must be one the fault envelope
	// declares: s, a, x, e, n, w or p.
	Subcode string
	// Reason is the user-facing text, written both to s:Reason/s:Text
	// (pywinrm) and f:WSManFault/f:Message (pypsrp, PowerShell).
	Reason string
	// WSManCode is f:WSManFault/@Code, written in decimal (pywinrm compares
	// the string "2150858793").
	WSManCode uint32
	// Machine is f:WSManFault/@Machine (always written; WinRM sends "").
	Machine string
	// FaultDetail is the optional w:FaultDetail URI
	// ("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/…").
	FaultDetail string
	// ErrorCode is psgate's catalog code ("admission.user-quota-exceeded"),
	// and Data its machine-readable details. They travel in a pg:Error
	// element (namespace NsPsgateFault) after f:WSManFault, which every
	// client ignores; psgate's connector reads them with DecodeFault.
	ErrorCode string
	Data      []KV
}

// Error describes the fault, so a client can return a *Fault as an error.
func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("wsman: fault")
	if f.ErrorCode != "" {
		b.WriteString(" [" + f.ErrorCode + "]")
	}
	if f.Subcode != "" {
		b.WriteString(" " + f.Subcode)
	}
	b.WriteString(" (code " + strconv.FormatUint(uint64(f.WSManCode), 10) + ")")
	if f.Reason != "" {
		b.WriteString(": " + strings.TrimSpace(f.Reason))
	}
	return b.String()
}

// Value returns the datum stored under key in f.Data.
func (f *Fault) Value(key string) (string, bool) {
	for _, kv := range f.Data {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// EncodeFault encodes f as a SOAP 1.2 fault envelope. h.Action defaults to
// ActionFault; h.RelatesTo is the request's MessageID when known.
func EncodeFault(h Header, f Fault) []byte {
	b := make([]byte, 0, 1536+2*len(f.Reason))
	b = appendEnvelopeStart(b, nsFaultSet, h, ActionFault)
	b = append(b, "<s:Fault><s:Code><s:Value>"...)
	b = appendText(b, orDefault(f.Code, "s:Receiver"))
	b = append(b, "</s:Value>"...)
	if f.Subcode != "" {
		b = append(b, "<s:Subcode><s:Value>"...)
		b = appendText(b, f.Subcode)
		b = append(b, "</s:Value></s:Subcode>"...)
	}
	b = append(b, `</s:Code><s:Reason><s:Text xml:lang="en-US">`...)
	b = appendText(b, f.Reason)
	b = append(b, "</s:Text></s:Reason><s:Detail>"...)
	if f.FaultDetail != "" {
		b = appendElem(b, "w:FaultDetail", f.FaultDetail)
	}
	b = append(b, `<f:WSManFault xmlns:f="`+NsWSManFault+`" Code="`...)
	b = strconv.AppendUint(b, uint64(f.WSManCode), 10)
	b = append(b, '"')
	b = appendAttr(b, "Machine", f.Machine)
	b = append(b, "><f:Message>"...)
	b = appendText(b, f.Reason)
	b = append(b, "</f:Message></f:WSManFault>"...)
	if f.ErrorCode != "" || len(f.Data) > 0 {
		b = append(b, `<pg:Error xmlns:pg="`+NsPsgateFault+`"`...)
		b = appendAttr(b, "Code", f.ErrorCode)
		b = append(b, '>')
		for _, kv := range f.Data {
			b = append(b, "<pg:Data"...)
			b = appendAttr(b, "Name", kv.Key)
			b = append(b, '>')
			b = appendText(b, kv.Value)
			b = append(b, "</pg:Data>"...)
		}
		b = append(b, "</pg:Error>"...)
	}
	b = append(b, "</s:Detail></s:Fault>"...)
	return append(b, envClose...)
}

// maxFaultSize bounds DecodeFault's input.
const maxFaultSize = 1 << 20

// DecodeFault parses a fault envelope, from psgate or from WinRM, back into
// a Fault: Code and Subcode as their literal QName text, Reason from
// s:Reason/s:Text (falling back to the text of f:Message, which may nest a
// provider fault), WSManCode and Machine from f:WSManFault, ErrorCode and
// Data from pg:Error. A well-formed envelope without s:Fault yields a
// *DecodeError wrapping ErrNoFault.
func DecodeFault(body []byte) (*Fault, error) {
	lim := Limits{MaxEnvelopeSize: maxFaultSize}.withDefaults()
	if len(body) > lim.MaxEnvelopeSize {
		return nil, &DecodeError{Kind: KindTooLarge, Detail: "fault of " + strconv.Itoa(len(body)) + " bytes"}
	}
	root, err := parseTree(body, lim)
	if err != nil {
		return nil, err
	}
	_, bodyEl, err := soapParts(root)
	if err != nil {
		return nil, err
	}
	fe := bodyEl.child(NsSOAP, "Fault")
	if fe == nil {
		return nil, &DecodeError{Kind: KindMalformed, Detail: "envelope without s:Fault", Err: ErrNoFault}
	}
	return faultOf(fe), nil
}

// faultOf reads an s:Fault element, as DecodeFault describes.
func faultOf(fe *node) *Fault {
	code := fe.child(NsSOAP, "Code")
	f := &Fault{
		Code:    code.child(NsSOAP, "Value").trimmed(),
		Subcode: code.child(NsSOAP, "Subcode").child(NsSOAP, "Value").trimmed(),
		Reason:  fe.child(NsSOAP, "Reason").child(NsSOAP, "Text").str(),
	}
	detail := fe.child(NsSOAP, "Detail")
	f.FaultDetail = detail.child(NsWSMan, "FaultDetail").trimmed()
	if wf := detail.child(NsWSManFault, "WSManFault"); wf != nil {
		c, _ := wf.attr("Code")
		f.WSManCode = parseWSManCode(c)
		f.Machine, _ = wf.attr("Machine")
		if strings.TrimSpace(f.Reason) == "" {
			f.Reason = string(wf.child(NsWSManFault, "Message").deepText(nil))
		}
	}
	if pe := detail.child(NsPsgateFault, "Error"); pe != nil {
		f.ErrorCode, _ = pe.attr("Code")
		for _, d := range pe.children(NsPsgateFault, "Data") {
			name, _ := d.attr("Name")
			f.Data = append(f.Data, KV{Key: name, Value: d.str()})
		}
	}
	return f
}

// parseWSManCode reads a decimal code, or a hexadecimal one written 0x…;
// anything else is 0.
func parseWSManCode(s string) uint32 {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(v)
	}
	if hasPrefixFold(s, "0x") {
		if v, err := strconv.ParseUint(s[2:], 16, 32); err == nil {
			return uint32(v)
		}
	}
	// Some servers print the HRESULT as a negative int32.
	if v, err := strconv.ParseInt(s, 10, 32); err == nil {
		return uint32(int32(v))
	}
	return 0
}
