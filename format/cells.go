package format

import (
	"strings"
	"unicode/utf8"
)

// ellipsis marks cut text, as Windows PowerShell 5.1 does (PowerShell 7
// uses a single "…").
const ellipsis = "..."

// runeCells is the number of console cells r occupies: two for East Asian
// wide and full-width characters, one otherwise.
func runeCells(r rune) int {
	if r < 0x1100 {
		return 1
	}
	switch {
	case r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x1F300 && r <= 0x1F64F, // pictographs, emoticons
		r >= 0x1F900 && r <= 0x1F9FF,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B and later
		return 2
	}
	return 1
}

// cells is the display width of s in console cells.
func cells(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// Slow path from the first non-ASCII byte.
			for _, r := range s[i:] {
				n += runeCells(r)
			}
			return n
		}
		n++
	}
	return n
}

// head returns the longest prefix of s that fits in n cells.
func head(s string, n int) string {
	used := 0
	for i, r := range s {
		c := runeCells(r)
		if used+c > n {
			return s[:i]
		}
		used += c
	}
	return s
}

// tail returns the longest suffix of s that fits in n cells.
func tail(s string, n int) string {
	used := 0
	for i := len(s); i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		c := runeCells(r)
		if used+c > n {
			return s[i:]
		}
		used += c
		i -= size
	}
	return s
}

// firstLine cuts s at its first line break, marking the cut with an
// ellipsis, as PowerShell does for table cells.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i] + ellipsis
	}
	return s
}

// fit renders s in exactly width cells: padded on the left (right-aligned)
// or on the right, or cut with an ellipsis at the end (left-aligned) or at
// the start (right-aligned) when it is too long.
func fit(s string, width int, right bool) string {
	n := cells(s)
	if n > width {
		keep := width - len(ellipsis)
		switch {
		case keep <= 0 && right:
			s = tail(s, width)
		case keep <= 0:
			s = head(s, width)
		case right:
			s = ellipsis + tail(s, keep)
		default:
			s = head(s, keep) + ellipsis
		}
		// A cut wide character can leave the cell one short.
		n = cells(s)
	}
	if n < width {
		pad := strings.Repeat(" ", width-n)
		if right {
			return pad + s
		}
		return s + pad
	}
	return s
}

// splitLines splits s at line breaks ("\r\n", "\n" or a lone "\r").
func splitLines(s string) []string {
	if !strings.ContainsAny(s, "\r\n") {
		return []string{s}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// wrap breaks one line of text into lines of at most width cells, at
// spaces where possible (PowerShell's word wrap for list values); a word
// longer than a line is broken where the line ends.
func wrap(s string, width int) []string {
	if cells(s) <= width {
		return []string{s}
	}
	var (
		out  []string
		cur  strings.Builder
		used int
	)
	flush := func() {
		out = append(out, cur.String())
		cur.Reset()
		used = 0
	}
	for len(s) > 0 {
		// A word and the blanks that follow it.
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		next := end
		for next < len(s) && (s[next] == ' ' || s[next] == '\t') {
			next++
		}
		word, blanks := s[:end], s[end:next]
		s = s[next:]

		ww := cells(word)
		switch {
		case ww > width:
			// Longer than a whole line: break it character by character.
			for _, r := range word {
				c := runeCells(r)
				if c > width {
					// A wide character in a one-cell field.
					r, c = '?', 1
				}
				if used+c > width && used > 0 {
					flush()
				}
				cur.WriteRune(r)
				used += c
			}
		case used+ww > width:
			flush()
			cur.WriteString(word)
			used = ww
		default:
			cur.WriteString(word)
			used += ww
		}
		if used < width {
			// Blanks that overflow the line are dropped: they would only
			// become trailing spaces.
			b := head(blanks, width-used)
			cur.WriteString(b)
			used += len(b)
		} else if len(s) > 0 {
			flush()
		}
	}
	if cur.Len() > 0 || len(out) == 0 {
		flush()
	}
	return out
}
