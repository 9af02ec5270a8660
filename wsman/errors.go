package wsman

import "errors"

// DecodeErrorKind classifies why a request could not be decoded; the HTTP
// layer maps each kind to its response (TooLarge → 413, the others → a SOAP
// fault).
type DecodeErrorKind int

const (
	// KindMalformed: not XML, not a SOAP 1.2 envelope, a DOCTYPE, bad
	// base64 or duration, a missing body element the action needs, or a
	// depth or element-count limit exceeded.
	KindMalformed DecodeErrorKind = iota + 1
	// KindTooLarge: the body is larger than Limits.MaxEnvelopeSize.
	KindTooLarge
	// KindMissingHeader: wsa:Action, wsa:MessageID or wsman:ResourceURI is
	// absent; DecodeError.Header names it.
	KindMissingHeader
)

func (k DecodeErrorKind) String() string {
	switch k {
	case KindMalformed:
		return "malformed"
	case KindTooLarge:
		return "too large"
	case KindMissingHeader:
		return "missing header"
	}
	return "unknown"
}

// Sentinels matching each DecodeErrorKind with errors.Is.
var (
	ErrMalformed     = errors.New("wsman: malformed envelope")
	ErrTooLarge      = errors.New("wsman: envelope too large")
	ErrMissingHeader = errors.New("wsman: missing header")
	// ErrNoFault is returned by DecodeFault for a well-formed envelope
	// without s:Fault.
	ErrNoFault = errors.New("wsman: no fault in envelope")
)

// DecodeError reports a request that cannot be processed.
type DecodeError struct {
	Kind DecodeErrorKind
	// Detail says what is wrong, for logs and for the fault text.
	Detail string
	// Header is the qualified name of the missing header
	// ("wsa:MessageID"), set for KindMissingHeader.
	Header string
	// MessageID is the request's wsa:MessageID when it could be read, so a
	// fault can still carry a:RelatesTo.
	MessageID string
	// Err is the underlying cause, if any (an *xml.SyntaxError, a
	// base64.CorruptInputError, ErrNoFault).
	Err error
}

func (e *DecodeError) Error() string {
	msg := "wsman: " + e.Kind.String()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind's sentinel and the cause.
func (e *DecodeError) Unwrap() []error {
	var s error
	switch e.Kind {
	case KindMalformed:
		s = ErrMalformed
	case KindTooLarge:
		s = ErrTooLarge
	case KindMissingHeader:
		s = ErrMissingHeader
	}
	errs := make([]error, 0, 2)
	if s != nil {
		errs = append(errs, s)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func malformed(detail string, cause error) *DecodeError {
	return &DecodeError{Kind: KindMalformed, Detail: detail, Err: cause}
}
