// Package clixml reads and writes CLIXML, the XML serialization PowerShell
// uses for PSRP message data, `#< CLIXML` stderr and Export-Clixml files
// ([MS-PSRP] §2.2.5).
//
// Marshal and Encoder turn psobject values and Go primitives into the body
// of one PSRP message; Unmarshal and Decoder turn client input back into
// psobject values under Limits. RefIds and type-name RefIds are scoped to
// one message, as PowerShell and pypsrp expect: use one Encoder (or one
// Marshal call) per message.
//
// Value mapping (encode → element → decode):
//
//	nil                  Nil     nil
//	string               S       string
//	psobject.Char        C       psobject.Char
//	bool                 B       bool
//	time.Time            DT      time.Time (up to 7 fractional digits)
//	time.Duration        TS      time.Duration (100 ns ticks)
//	uint8 / int8         By / SB uint8 / int8
//	uint16 / int16       U16/I16 uint16 / int16
//	uint32 / int32       U32/I32 uint32 / int32 (Go int: I32, or I64 if large)
//	uint64 / int64       U64/I64 uint64 / int64
//	float32 / float64    Sg / Db float32 / float64
//	psobject.Decimal     D       psobject.Decimal
//	[]byte               BA      []byte
//	psobject.GUID        G       psobject.GUID (lower case)
//	*url.URL             URI     *url.URL (string if unparsable)
//	psobject.Version     Version psobject.Version
//	psobject.ScriptBlock SBK     psobject.ScriptBlock
//	SecureString         SS      SecureString (ciphertext only)
//	(none)               XD      string
//	psobject.Enum        Obj     psobject.Enum (TN with System.Enum + integer)
//	*psobject.Object     Obj     *psobject.Object
//	*psobject.Dict       Obj+DCT *psobject.Dict
//	[]any, []string, List Obj+LST []any (LST, IE, QUE and STK)
//
// An Obj that wraps a primitive and is not an enum (a string with note
// properties, a DateTime with DisplayHint) decodes to the primitive.
// Strings are escaped as PowerShell does: control characters, characters
// outside the Basic Multilingual Plane (as UTF-16 surrogates) and a literal
// "_x" become _xHHHH_ sequences; decoding accepts either case.
package clixml
