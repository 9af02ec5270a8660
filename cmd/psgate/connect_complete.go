package main

import (
	"sort"
	"strings"

	"github.com/psgate/psgate/psobject"
)

// completer completes cmdlet names and their parameters from the server's
// command metadata (Get-Command output).
type completer struct {
	commands []string
	params   map[string][]string // lower-case command name → parameter names
}

// newCompleter reads Get-Command output objects.
func newCompleter(objs []any) *completer {
	c := &completer{params: map[string][]string{}}
	for _, v := range objs {
		o, ok := v.(*psobject.Object)
		if !ok {
			continue
		}
		name, _ := o.Get("Name")
		n, ok := name.(string)
		if !ok || n == "" {
			continue
		}
		c.commands = append(c.commands, n)
		if ps, ok := o.Get("Parameters"); ok {
			if d, ok := ps.(*psobject.Dict); ok {
				for _, e := range d.Entries {
					if k, ok := e.Key.(string); ok {
						c.params[strings.ToLower(n)] = append(c.params[strings.ToLower(n)], k)
					}
				}
			}
		}
	}
	sort.Strings(c.commands)
	return c
}

// complete completes the word before pos in line. It returns the new line
// and cursor, and the candidates when more than one matches.
func (c *completer) complete(line string, pos int) (string, int, []string) {
	r := []rune(line)
	if pos > len(r) {
		pos = len(r)
	}
	start := pos
	for start > 0 && !strings.ContainsRune(" \t|;({", r[start-1]) {
		start--
	}
	word := string(r[start:pos])
	var candidates []string
	if strings.HasPrefix(word, "-") {
		for _, p := range c.params[strings.ToLower(segmentCommand(r[:start]))] {
			if hasPrefixFold(p, word[1:]) {
				candidates = append(candidates, "-"+p)
			}
		}
	} else if strings.TrimSpace(segmentText(r[:start])) == "" {
		for _, name := range c.commands {
			if hasPrefixFold(name, word) {
				candidates = append(candidates, name)
			}
		}
	}
	if len(candidates) == 0 {
		return line, pos, nil
	}
	fill := commonPrefixFold(candidates)
	if len(fill) < len([]rune(word)) {
		fill = word
	}
	out := string(r[:start]) + fill + string(r[pos:])
	newPos := start + len([]rune(fill))
	if len(candidates) == 1 {
		return out, newPos, nil
	}
	return out, newPos, candidates
}

// segmentText is the text of the current pipeline element before the word.
func segmentText(before []rune) string {
	s := string(before)
	if i := strings.LastIndexAny(s, "|;({"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// segmentCommand is the command name of the current pipeline element.
func segmentCommand(before []rune) string {
	f := strings.Fields(segmentText(before))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// commonPrefixFold is the longest case-insensitive common prefix, spelt
// as the first candidate.
func commonPrefixFold(words []string) string {
	p := []rune(words[0])
	for _, w := range words[1:] {
		wr := []rune(w)
		n := 0
		for n < len(p) && n < len(wr) && strings.EqualFold(string(p[n]), string(wr[n])) {
			n++
		}
		p = p[:n]
	}
	return string(p)
}
