package format

import "strings"

// Options control the text layout. The zero value is PowerShell's layout
// for a remote session without a console: 120 columns, CRLF line endings.
type Options struct {
	// Width is the line width in character cells. 0 means 120, the width
	// PowerShell uses when there is no console window; values below
	// MinWidth are raised to MinWidth.
	Width int
	// Newline ends every line. "" means "\r\n", what WinRS clients expect;
	// the CLI asks for "\n".
	Newline string
	// EnumerationLimit is how many items of a collection value are shown
	// before "...", like $FormatEnumerationLimit. 0 means 4 (PowerShell's
	// default); a negative value shows all items.
	EnumerationLimit int
	// Color marks table headers and list labels with ANSI escape
	// sequences in PowerShell 7's default $PSStyle.Formatting colours
	// (TableHeader and FormatAccent: bold green). For terminals only:
	// WinRS output never sets it.
	Color bool
}

// ANSI SGR sequences of PowerShell 7's default $PSStyle.
const (
	SGRTableHeader = "\x1b[32;1m"
	SGRError       = "\x1b[31;1m"
	SGRWarning     = "\x1b[33;1m"
	SGRReset       = "\x1b[0m"
)

// Layout defaults.
const (
	DefaultWidth            = 120
	MinWidth                = 10
	DefaultNewline          = "\r\n"
	DefaultEnumerationLimit = 4
)

func (o Options) withDefaults() Options {
	switch {
	case o.Width == 0:
		o.Width = DefaultWidth
	case o.Width < MinWidth:
		o.Width = MinWidth
	}
	if o.Newline == "" {
		o.Newline = DefaultNewline
	}
	if o.EnumerationLimit == 0 {
		o.EnumerationLimit = DefaultEnumerationLimit
	}
	return o
}

// writer accumulates lines, trimming trailing spaces and ending each line
// with the configured newline.
type writer struct {
	b     strings.Builder
	nl    string
	color bool
}

func (w *writer) line(s string) {
	w.b.WriteString(strings.TrimRight(s, " "))
	w.b.WriteString(w.nl)
}

// accent writes s in the table header colour when colours are on, else as
// line does.
func (w *writer) accent(s string) {
	s = strings.TrimRight(s, " ")
	if w.color && s != "" {
		s = SGRTableHeader + s + SGRReset
	}
	w.b.WriteString(s)
	w.b.WriteString(w.nl)
}

func (w *writer) blank() { w.b.WriteString(w.nl) }

func (w *writer) String() string { return w.b.String() }
