package wsman

import "unicode/utf8"

// The response envelopes are written by appending to a byte slice: no
// reflection, one allocation for a typical response. Namespace declarations
// follow what WinRM sends for each kind of response ([rec:test_winrs_standard]
// and friends in pypsrp's recorded responses).
const (
	envOpen = `<s:Envelope xml:lang="en-US" xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `"`
	// nsShellSet: Create, Command, Send, Signal, Connect.
	nsShellSet = envOpen + ` xmlns:x="` + NsTransfer + `" xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell + `" xmlns:p="` + NsWSManMS + `">`
	// nsReceiveSet: Receive.
	nsReceiveSet = envOpen + ` xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell + `" xmlns:p="` + NsWSManMS + `">`
	// nsPlainSet: Delete, Disconnect, Reconnect (empty bodies).
	nsPlainSet = envOpen + ` xmlns:w="` + NsWSMan + `" xmlns:p="` + NsWSManMS + `">`
	// nsTransferSet: Get (shell or config).
	nsTransferSet = envOpen + ` xmlns:x="` + NsTransfer + `" xmlns:w="` + NsWSMan + `" xmlns:p="` + NsWSManMS + `">`
	// nsEnumSet: EnumerateResponse.
	nsEnumSet = envOpen + ` xmlns:n="` + NsEnumeration + `" xmlns:w="` + NsWSMan + `" xmlns:p="` + NsWSManMS + `">`
	// nsFaultSet: every fault.
	nsFaultSet = envOpen + ` xmlns:x="` + NsTransfer + `" xmlns:e="` + NsEventing + `" xmlns:n="` + NsEnumeration + `" xmlns:w="` + NsWSMan + `" xmlns:p="` + NsWSManMS + `">`

	envClose = `</s:Body></s:Envelope>`
)

// Header carries the addressing headers of a response.
type Header struct {
	// Action is the response action; the typed Encode functions fill the
	// right one when it is empty.
	Action string
	// MessageID is the response's own id, "uuid:" + an UPPERCASE GUID (see
	// NewMessageID).
	MessageID string
	// RelatesTo is the request's wsa:MessageID verbatim; omitted when empty
	// (a fault for a request whose id could not be read).
	RelatesTo string
}

// appendEnvelopeStart writes the envelope start tag (ns is one of the ns*Set
// constants), the header and "<s:Body>".
func appendEnvelopeStart(b []byte, ns string, h Header, defaultAction string) []byte {
	action := h.Action
	if action == "" {
		action = defaultAction
	}
	b = append(b, ns...)
	b = append(b, "<s:Header><a:Action>"...)
	b = appendText(b, action)
	b = append(b, "</a:Action>"...)
	if h.MessageID != "" {
		b = append(b, "<a:MessageID>"...)
		b = appendText(b, h.MessageID)
		b = append(b, "</a:MessageID>"...)
	}
	b = append(b, "<a:To>"+AddressAnonymous+"</a:To>"...)
	if h.RelatesTo != "" {
		b = append(b, "<a:RelatesTo>"...)
		b = appendText(b, h.RelatesTo)
		b = append(b, "</a:RelatesTo>"...)
	}
	return append(b, "</s:Header><s:Body>"...)
}

// appendElem writes <tag>text</tag> with text escaped.
func appendElem(b []byte, tag, text string) []byte {
	b = append(b, '<')
	b = append(b, tag...)
	b = append(b, '>')
	b = appendText(b, text)
	b = append(b, "</"...)
	b = append(b, tag...)
	return append(b, '>')
}

// appendAttr writes ` name="value"` with value escaped.
func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendText writes s escaped as element content.
func appendText(b []byte, s string) []byte {
	return appendEscaped(b, s, false)
}

// appendEscaped escapes markup characters and replaces what XML 1.0 cannot
// carry (control characters, invalid UTF-8, U+FFFE/U+FFFF) with U+FFFD, so
// the output is always well-formed whatever the caller passes. In
// attributes, quotes and white-space controls become character references so
// they survive attribute-value normalisation; '\r' is referenced everywhere
// so it survives line-end normalisation.
func appendEscaped(b []byte, s string, attr bool) []byte {
	// Most values (ids, URIs, stream names) need nothing: find the first
	// byte that might, one table lookup a byte.
	special := &textSpecial
	if attr {
		special = &attrSpecial
	}
	i := 0
	for i < len(s) && !special[s[i]] {
		i++
	}
	if i == len(s) {
		return append(b, s...)
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			if !attr {
				i++
				continue
			}
			esc = "&quot;"
		case '\r':
			esc = "&#xD;"
		case '\n':
			if !attr {
				i++
				continue
			}
			esc = "&#xA;"
		case '\t':
			if !attr {
				i++
				continue
			}
			esc = "&#x9;"
		default:
			if c < 0x20 {
				esc = "\uFFFD"
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
				esc, width = "\uFFFD", size
				break
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		i += width
		start = i
	}
	return append(b, s[start:]...)
}

// textSpecial and attrSpecial mark the bytes appendEscaped must look at in
// element content and in attribute values: markup characters, control
// characters and the start of every non-ASCII sequence.
var textSpecial, attrSpecial = escapeTable(false), escapeTable(true)

func escapeTable(attr bool) (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c >= utf8.RuneSelf || c == '&' || c == '<' || c == '>'
	}
	if attr {
		t['"'] = true
	} else {
		t['\n'], t['\t'] = false, false
	}
	return t
}
