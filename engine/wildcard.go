package engine

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psgate/psgate"
)

// Wildcard is a compiled PowerShell wildcard pattern (WildcardPattern):
// * matches any run of characters, ? exactly one, [abc] and [a-z] one of a
// set, and a backtick escapes the next character. Matching is of the whole
// string.
type Wildcard struct {
	elems         []wildElem
	caseSensitive bool
	literal       string // set when the pattern has no wildcard characters
	isLiteral     bool
}

type wildKind uint8

const (
	wildRune wildKind = iota
	wildAny           // ?
	wildStar          // *
	wildSet           // [...]
)

type wildElem struct {
	kind   wildKind
	r      rune
	ranges []runeRange // for wildSet
}

type runeRange struct{ lo, hi rune }

// HasWildcard reports whether s contains a wildcard character (* ? [).
func HasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?[")
}

// CompileWildcard compiles a wildcard pattern. An unterminated [ set is an
// error, as in PowerShell.
func CompileWildcard(pattern string, caseSensitive bool) (*Wildcard, error) {
	w := &Wildcard{caseSensitive: caseSensitive}
	if !strings.ContainsAny(pattern, "*?[`") {
		w.isLiteral = true
		w.literal = pattern
		return w, nil
	}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch r {
		case '*':
			if n := len(w.elems); n == 0 || w.elems[n-1].kind != wildStar {
				w.elems = append(w.elems, wildElem{kind: wildStar})
			}
		case '?':
			w.elems = append(w.elems, wildElem{kind: wildAny})
		case '`':
			if i < len(pattern) {
				r, size = utf8.DecodeRuneInString(pattern[i:])
				i += size
			}
			w.elems = append(w.elems, wildElem{kind: wildRune, r: r})
		case '[':
			end, ranges, ok := parseWildSet(pattern, i)
			if !ok {
				return nil, psgate.E(psgate.CodeInvalidOperation, psgate.Args{
					"detail": "The specified wildcard character pattern is not valid: " + pattern,
				})
			}
			i = end
			w.elems = append(w.elems, wildElem{kind: wildSet, ranges: ranges})
		default:
			w.elems = append(w.elems, wildElem{kind: wildRune, r: r})
		}
	}
	return w, nil
}

// parseWildSet parses a set starting after '[' at i; it returns the index
// after the closing ']'.
func parseWildSet(p string, i int) (int, []runeRange, bool) {
	var ranges []runeRange
	for i < len(p) {
		r, size := utf8.DecodeRuneInString(p[i:])
		i += size
		switch r {
		case ']':
			return i, ranges, true
		case '`':
			if i >= len(p) {
				return 0, nil, false
			}
			r, size = utf8.DecodeRuneInString(p[i:])
			i += size
		}
		lo := r
		hi := r
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hr, hsize := utf8.DecodeRuneInString(p[i+1:])
			hi = hr
			i += 1 + hsize
		}
		ranges = append(ranges, runeRange{lo, hi})
	}
	return 0, nil, false
}

// Match reports whether s matches the whole pattern.
func (w *Wildcard) Match(s string) bool {
	if w.isLiteral {
		if w.caseSensitive {
			return s == w.literal
		}
		return strings.EqualFold(s, w.literal)
	}
	// Iterative matching with one backtrack point per star: linear in
	// practice, never exponential.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		if pi < len(w.elems) && w.elems[pi].kind == wildStar {
			starP, starS = pi, si
			pi++
			continue
		}
		if pi < len(w.elems) && w.matchOne(w.elems[pi], r) {
			pi++
			si += size
			continue
		}
		if starP < 0 {
			return false
		}
		_, ssize := utf8.DecodeRuneInString(s[starS:])
		starS += ssize
		pi, si = starP+1, starS
	}
	for pi < len(w.elems) && w.elems[pi].kind == wildStar {
		pi++
	}
	return pi == len(w.elems)
}

func (w *Wildcard) matchOne(e wildElem, r rune) bool {
	switch e.kind {
	case wildAny:
		return true
	case wildRune:
		return e.r == r || !w.caseSensitive && foldEqual(e.r, r)
	case wildSet:
		for _, rg := range e.ranges {
			if r >= rg.lo && r <= rg.hi {
				return true
			}
			if !w.caseSensitive {
				lr, ur := unicode.ToLower(r), unicode.ToUpper(r)
				if lr >= rg.lo && lr <= rg.hi || ur >= rg.lo && ur <= rg.hi {
					return true
				}
			}
		}
	}
	return false
}

func foldEqual(a, b rune) bool {
	return unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b)
}
