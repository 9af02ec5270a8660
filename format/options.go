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
}

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
	b  strings.Builder
	nl string
}

func (w *writer) line(s string) {
	w.b.WriteString(strings.TrimRight(s, " "))
	w.b.WriteString(w.nl)
}

func (w *writer) blank() { w.b.WriteString(w.nl) }

func (w *writer) String() string { return w.b.String() }
