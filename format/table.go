package format

import (
	"math"
	"strings"

	"github.com/psgate/psgate/psobject"
)

// column is a table column.
type column struct {
	label string // header text, also the property shown
	fixed int    // width in cells; 0 sizes the column to its content
	right bool   // right-aligned (numbers, booleans), header included
	// pick returns the cell's value; nil shows the property named label.
	pick func(*psobject.Object) any
}

// cell returns the value of column c for o.
func (c column) cell(o *psobject.Object) any {
	if c.pick != nil {
		return c.pick(o)
	}
	return value(o, c.label)
}

// minColumnWidth is how narrow a column may be squeezed before columns are
// dropped: room for one character and the ellipsis.
const minColumnWidth = 1 + len(ellipsis)

// renderTable writes a table section: an empty line, the header, a line
// of dashes, the rows (and any out-of-band text between them), then two
// empty lines.
func renderTable(w *writer, cols []column, items []item, width int) {
	natural := make([]int, len(cols))
	for i, c := range cols {
		if c.fixed > 0 {
			natural[i] = c.fixed
			continue
		}
		n := max(cells(c.label), 1)
		for _, it := range items {
			if !it.isRaw {
				n = max(n, cells(it.cells[i]))
			}
		}
		natural[i] = n
	}
	widths := fitWidths(natural, width)

	w.blank()
	parts := make([]string, len(widths))
	for i, cw := range widths {
		parts[i] = fit(cols[i].label, cw, cols[i].right)
	}
	w.accent(strings.Join(parts, " "))
	for i, cw := range widths {
		// Dashes under the label's text, cut to the column.
		n := cw
		if l := cells(cols[i].label); l > 0 && l < n {
			n = l
		}
		parts[i] = fit(strings.Repeat("-", n), cw, cols[i].right)
	}
	w.accent(strings.Join(parts, " "))
	for _, it := range items {
		if it.isRaw {
			writeRaw(w, it.raw)
			continue
		}
		for i, cw := range widths {
			parts[i] = fit(it.cells[i], cw, cols[i].right)
		}
		w.line(strings.Join(parts, " "))
	}
	w.blank()
	w.blank()
}

// fitWidths returns the widths of the columns shown in a line of total
// cells, one space between columns. Columns keep their natural width when
// everything fits; otherwise the widest columns are narrowed first (all
// those above a common level are cut to it), down to minColumnWidth, and
// when even that does not fit, columns are dropped from the right, as
// PowerShell drops columns that do not fit the screen.
func fitWidths(natural []int, total int) []int {
	for n := len(natural); n > 0; n-- {
		w := append([]int(nil), natural[:n]...)
		avail := total - (n - 1)
		if capSum(w, math.MaxInt) <= avail {
			return w
		}
		if capSum(w, minColumnWidth) > avail {
			continue
		}
		// The highest level at which the capped widths still fit.
		lo, hi := minColumnWidth, total
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if capSum(w, mid) <= avail {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		// Give the cells left over to the leftmost cut columns.
		left := avail - capSum(w, lo)
		for i := range w {
			if w[i] > lo {
				w[i] = lo
				if left > 0 {
					w[i]++
					left--
				}
			}
		}
		return w
	}
	return nil
}

// capSum is the total of the widths, each capped at level.
func capSum(widths []int, level int) int {
	s := 0
	for _, x := range widths {
		s += min(x, level)
	}
	return s
}
