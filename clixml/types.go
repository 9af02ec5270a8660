package clixml

// SecureString is a System.Security.SecureString as it travels in PSRP: the
// base64-decoded <SS> content, AES-256-CBC encrypted with the session key
// the client and server exchanged ([MS-PSRP] §2.2.5.1.24). The decoder never
// decrypts it; the PSRP layer decides whether it can.
type SecureString struct {
	Ciphertext []byte
}

// ListKind selects the CLIXML container element of a List.
type ListKind uint8

// List kinds.
const (
	KindList       ListKind = iota // <LST>: arrays, List<T>, ArrayList
	KindEnumerable                 // <IE>: other IEnumerable
	KindQueue                      // <QUE>: System.Collections.Queue
	KindStack                      // <STK>: System.Collections.Stack
)

// List is a collection with explicit .NET type names, for encoding. The
// decoder returns every collection as []any.
type List struct {
	// TypeNames, most derived first. Empty means System.Object[].
	TypeNames []string
	Kind      ListKind
	Items     []any
}

// Stream tags a top-level value of an <Objs> document with the stream it
// was written to: PowerShell's `#< CLIXML` stderr marks error lines as
// <S S="Error">. Only MarshalDocument and UnmarshalDocument use it.
type Stream struct {
	Name  string
	Value any
}

// Common type-name lists.
var (
	objectArrayTypes = []string{"System.Object[]", "System.Array", "System.Object"}
	stringArrayTypes = []string{"System.String[]", "System.Array", "System.Object"}
	hashtableTypes   = []string{"System.Collections.Hashtable", "System.Object"}
)
