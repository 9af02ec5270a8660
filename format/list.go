package format

import "strings"

// listSeparator sits between a property name and its value.
const listSeparator = " : "

// renderList writes a list section: two empty lines, then each object's
// "Name : value" lines followed by an empty line (out-of-band text is
// written as is), then two more empty lines.
func renderList(w *writer, items []item, width int) {
	w.blank()
	w.blank()
	for _, it := range items {
		if it.isRaw {
			writeRaw(w, it.raw)
			continue
		}
		writeEntry(w, it.labels, it.cells, width)
		w.blank()
	}
	w.blank()
	w.blank()
}

// writeEntry writes one object's properties. Names are padded to the
// longest (cut when they would leave no room for values); values are
// wrapped at the line width, and every line of a value after the first is
// indented to the value column.
func writeEntry(w *writer, labels, values []string, width int) {
	lw := 0
	for _, l := range labels {
		lw = max(lw, cells(l))
	}
	lw = min(lw, width-len(listSeparator)-1)
	indent := strings.Repeat(" ", lw+len(listSeparator))
	field := width - len(indent)
	for i, l := range labels {
		prefix := fit(head(l, lw), lw, false) + listSeparator
		if w.color {
			prefix = SGRTableHeader + prefix + SGRReset
		}
		for _, line := range splitLines(values[i]) {
			for _, part := range wrap(line, field) {
				w.line(prefix + part)
				prefix = indent
			}
		}
	}
}
