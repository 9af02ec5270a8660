package config

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// entry is one key of a configuration file with its value and line.
type entry struct {
	key  string
	val  any
	line int
}

// parseFile reads a configuration file's TOML into its settings, each with
// its line. Every problem is reported, with its line: unknown keys and tables,
// a value where a table belongs; a TOML syntax error is reported alone, as
// nothing after it can be read. Values are not checked here: Load does
// that. name is the file's name in problems.
func parseFile(name string, data []byte) ([]entry, []Problem) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ = de.Position()
			msg = strings.TrimPrefix(de.Error(), "toml: ")
		}
		return nil, []Problem{{Origin: Origin{Kind: FromFile, Name: name, Line: line}, Message: "TOML syntax: " + msg}}
	}
	lines := keyLines(data)
	at := func(path ...string) Origin {
		return Origin{Kind: FromFile, Name: name, Line: lines.find(path)}
	}
	byKey := map[string]Setting{}
	sections := map[string]bool{}
	for _, s := range Settings() {
		byKey[s.Key] = s
		if t, _, ok := strings.Cut(s.Key, "."); ok {
			sections[t] = true
		}
	}
	var (
		entries  []entry
		problems []Problem
	)
	for k, v := range doc {
		if s, ok := byKey[k]; ok && !strings.Contains(k, ".") {
			entries = append(entries, entry{key: s.Key, val: v, line: at(k).Line})
			continue
		}
		if _, ok := byKey[k]; ok {
			problems = append(problems, Problem{Origin: at(k), Key: k,
				Message: fmt.Sprintf("the quoted key %q is one name with a dot in it: write it unquoted, %s = ...", k, k)})
			continue
		}
		if !sections[k] {
			msg := fmt.Sprintf("unknown key %q", k) + suggest(k)
			if _, isTable := v.(map[string]any); isTable {
				msg = fmt.Sprintf("unknown table [%s]", k) + suggestTable(k, sections)
			}
			problems = append(problems, Problem{Origin: at(k), Key: k, Message: msg})
			continue
		}
		table, ok := v.(map[string]any)
		if !ok {
			problems = append(problems, Problem{Origin: at(k), Key: k,
				Message: fmt.Sprintf("%s is a table: write [%s] and its keys below it, not %s", k, k, tomlType(v))})
			continue
		}
		for sk, sv := range table {
			key := k + "." + sk
			if s, ok := byKey[key]; ok && !strings.Contains(sk, ".") {
				entries = append(entries, entry{key: s.Key, val: sv, line: at(k, sk).Line})
				continue
			}
			problems = append(problems, Problem{Origin: at(k, sk), Key: key, Message: fmt.Sprintf("unknown key %q", key) + suggest(key)})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].line < entries[j].line })
	sortProblems(problems)
	return entries, problems
}

// lineIndex maps a key path (its parts joined by NUL) to the line where it
// is first written.
type lineIndex map[string]int

func (ix lineIndex) find(path []string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := ix[strings.Join(path[:n], "\x00")]; ok {
			return l
		}
	}
	return 0
}

// keyLines indexes the line of every table header and key of a document
// that toml.Unmarshal accepted. The go-toml parser gives each key its byte
// range; the decoder alone says only where the first error is.
func keyLines(data []byte) lineIndex {
	ix := lineIndex{}
	// starts[i] is the offset where line i+1 starts: a key's line is found
	// by binary search, as Parser.Shape would count lines from the top for
	// every key.
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	note := func(path []string, n *unstable.Node) {
		k := strings.Join(path, "\x00")
		if _, ok := ix[k]; !ok {
			ix[k] = sort.SearchInts(starts, int(n.Raw.Offset)+1)
		}
	}
	var keyval func(prefix []string, n *unstable.Node)
	keyval = func(prefix []string, n *unstable.Node) {
		path := slices.Clone(prefix)
		it := n.Key()
		for it.Next() {
			path = append(path, string(it.Node().Data))
			note(path, it.Node())
		}
		if v := n.Value(); v.Kind == unstable.InlineTable {
			kids := v.Children()
			for kids.Next() {
				keyval(path, kids.Node())
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = table[:0]
			it := e.Key()
			for it.Next() {
				table = append(table, string(it.Node().Data))
				note(table, it.Node())
			}
		case unstable.KeyValue:
			keyval(table, e)
		}
	}
	return ix
}

// suggest names the key or keys meant by a mistyped one: the same name in
// another table, a flag's name, or one a typo or two away.
func suggest(typed string) string {
	norm := strings.ReplaceAll(strings.ToLower(typed), "-", "_")
	last := norm[strings.LastIndexByte(norm, '.')+1:]
	var close []string
	for _, s := range Settings() {
		name := s.Key[strings.LastIndexByte(s.Key, '.')+1:]
		flag := strings.ReplaceAll(s.Flag, "-", "_")
		switch {
		case editDistance(norm, s.Key) <= 2,
			name == last && len(last) > 2,
			flag != "" && (flag == norm || flag == last):
			close = append(close, s.Key)
		}
	}
	if len(close) == 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", quoteOr(close))
}

// suggestTable names the table meant by a mistyped one.
func suggestTable(typed string, sections map[string]bool) string {
	var close []string
	for t := range sections {
		if editDistance(strings.ToLower(typed), t) <= 2 {
			close = append(close, "["+t+"]")
		}
	}
	if len(close) == 0 {
		return fmt.Sprintf("; the tables are %s", tableList(sections))
	}
	sort.Strings(close)
	return fmt.Sprintf("; did you mean %s?", strings.Join(close, " or "))
}

func tableList(sections map[string]bool) string {
	var ts []string
	for t := range sections {
		ts = append(ts, "["+t+"]")
	}
	sort.Strings(ts)
	return strings.Join(ts, ", ")
}

func quoteOr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
