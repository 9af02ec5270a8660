package module

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxFileSize bounds a module file.
const MaxFileSize = 4 << 20

// Load reads, checks and prepares one module file: its TLS files are read
// too, so that a module that loads is one that can serve. The error is an
// *Error listing every problem with its line, column and field.
func Load(file string) (*Module, error) {
	data, err := readFile(file)
	if err != nil {
		return nil, &Error{Problems: []Problem{{File: file, Msg: err.Error()}}}
	}
	m, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	read := func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return readFile(name)
	}
	var problems []Problem
	for _, name := range sortedKeys(m.Backends) {
		b := m.Backends[name]
		if err := b.loadTLS(read); err != nil {
			problems = append(problems, m.problemAt(b.off, "backends."+name, err.Error()))
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return m, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a module file may have", name, st.Size(), MaxFileSize)
	}
	buf := make([]byte, st.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return buf, nil
}

// Parse checks a module file's text (without reading its TLS files).
func Parse(file string, data []byte) (*Module, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{File: file, Msg: fmt.Sprintf("the file has %d bytes, more than the %d a module file may have", len(data), MaxFileSize)}}}
	}
	root, err := parseTree(data)
	if err != nil {
		var se *syntaxError
		off := 0
		if errors.As(err, &se) {
			off = se.off
		}
		line, col := position(data, off)
		return nil, &Error{Problems: []Problem{{File: file, Line: line, Column: col, Msg: err.Error()}}}
	}
	d := &decoder{file: file, src: data}
	m := d.decodeModule(root)
	if len(d.problems) > 0 {
		sort.SliceStable(d.problems, func(i, j int) bool {
			a, b := d.problems[i], d.problems[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, &Error{Problems: d.problems}
	}
	return m, nil
}

// LoadDir loads every *.json file of dir, in name order. Problems of all
// files are reported together; a cmdlet declared by two modules is one.
func LoadDir(dir string) ([]*Module, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &Error{Problems: []Problem{{File: dir, Msg: "cannot read the module folder: " + err.Error()}}}
	}
	var mods []*Module
	var problems []Problem
	owner := map[string]*Module{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), ".json") || e.Type()&fs.ModeType != 0 && e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		m, err := Load(filepath.Join(dir, e.Name()))
		var me *Error
		if errors.As(err, &me) {
			problems = append(problems, me.Problems...)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, c := range m.Cmdlets {
			key := strings.ToLower(c.Name)
			if other, ok := owner[key]; ok {
				problems = append(problems, m.problemAt(c.off, c.Name, fmt.Sprintf("%s is also declared by %s", c.Name, other.File)))
				continue
			}
			owner[key] = m
		}
		mods = append(mods, m)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return mods, nil
}

// problemAt is a problem at an offset of the module's file.
func (m *Module) problemAt(off int, field, msg string) Problem {
	line, col := position(m.src, off)
	return Problem{File: m.File, Line: line, Column: col, Field: field, Msg: msg}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
