package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// Output formats of run and connect.
var outputFormats = []string{"", "table", "list", "json", "csv"}

func checkOutputFormat(f string) error {
	for _, ok := range outputFormats {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("--output %q: use table, list, json or csv", f)
}

// outputStyle is how run and connect print output: --output, --width and
// the resolved --color.
type outputStyle struct {
	mode  string
	width int
	color bool
}

// Values of --color.
var colorModes = []string{"auto", "always", "never"}

func checkColorMode(m string) error {
	for _, ok := range colorModes {
		if m == ok {
			return nil
		}
	}
	return fmt.Errorf("--color %q: use auto, always or never", m)
}

// useColor resolves --color for output written to w: auto colours a
// terminal whose TERM is not "dumb", unless NO_COLOR is set to anything
// (https://no-color.org); pipes and files never get colours.
func useColor(mode string, w io.Writer, getenv func(string) string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// writeObjects renders command output with the format package, as the
// server renders it for WinRS: each object through its own view (the
// default display property set its CLIXML carries, help as Get-Help lays
// it out), or as --output asks. Text the server already formatted
// (Format-Table, Format-List, Out-String) arrives as strings and is
// written as is.
func writeObjects(w io.Writer, objs []any, mode string, width int, color bool) error {
	if len(objs) == 0 {
		return nil
	}
	opt := format.Options{Newline: "\n", Width: width, Color: color && (mode == "" || mode == "table" || mode == "list")}
	var text string
	switch mode {
	case "":
		text = format.Default(objs, opt)
	case "table":
		text = format.Table(objs, nil, opt)
	case "list":
		text = format.List(objs, nil, opt)
	case "json":
		vals := make([]any, len(objs))
		for i, v := range objs {
			vals[i] = jsonValue(v, 0)
		}
		b, err := json.MarshalIndent(vals, "", "  ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		text = string(b) + "\n"
	case "csv":
		var buf bytes.Buffer
		if err := writeCSV(&buf, objs); err != nil {
			return err
		}
		text = buf.String()
	}
	_, err := io.WriteString(w, text)
	return err
}

// orderedObject keeps property order in JSON.
type orderedObject []psobject.Property

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue converts a deserialized value to what encoding/json writes
// the way ConvertTo-Json would.
func jsonValue(v any, depth int) any {
	if depth > 8 {
		return psobject.Format(v)
	}
	switch x := v.(type) {
	case *psobject.Object:
		props := x.Properties()
		if len(props) == 0 {
			return x.String()
		}
		out := make(orderedObject, len(props))
		for i, p := range props {
			out[i] = psobject.Property{Name: p.Name, Value: jsonValue(p.Value, depth+1)}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = jsonValue(it, depth+1)
		}
		return out
	case *psobject.Dict:
		out := make(orderedObject, len(x.Entries))
		for i, e := range x.Entries {
			out[i] = psobject.Property{Name: psobject.Format(e.Key), Value: jsonValue(e.Value, depth+1)}
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration, psobject.Enum, psobject.Char:
		return psobject.Format(x)
	}
	return v
}

// writeCSV writes objects as Export-Csv -NoTypeInformation does: the
// first object's properties are the columns.
func writeCSV(w io.Writer, objs []any) error {
	cw := csv.NewWriter(w)
	var cols []string
	for _, v := range objs {
		o, ok := v.(*psobject.Object)
		if !ok || len(o.Properties()) == 0 {
			if cols == nil {
				cols = []string{"Value"}
				if err := cw.Write(cols); err != nil {
					return err
				}
			}
			if err := cw.Write([]string{psobject.Format(v)}); err != nil {
				return err
			}
			continue
		}
		if cols == nil {
			for _, p := range o.Properties() {
				cols = append(cols, p.Name)
			}
			if err := cw.Write(cols); err != nil {
				return err
			}
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			if val, ok := o.Get(c); ok && val != nil {
				row[i] = psobject.Format(val)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeRecord prints a non-output record on stderr as PowerShell's host
// does, in PowerShell 7's colours when color is set: errors red,
// warnings, verbose and debug messages yellow.
func writeRecord(w io.Writer, r client.Record, color bool) {
	paint := func(sgr, s string) string {
		if !color {
			return s
		}
		return sgr + s + format.SGRReset
	}
	switch r.Stream {
	case client.StreamError:
		code := ""
		if r.Error != nil && r.Error.Code != "" {
			code = "[" + r.Error.Code + "] "
		}
		fmt.Fprintln(w, paint(format.SGRError, "ERROR: "+code+r.Message))
	case client.StreamWarning:
		fmt.Fprintln(w, paint(format.SGRWarning, "WARNING: "+r.Message))
	case client.StreamVerbose:
		fmt.Fprintln(w, paint(format.SGRWarning, "VERBOSE: "+r.Message))
	case client.StreamDebug:
		fmt.Fprintln(w, paint(format.SGRWarning, "DEBUG: "+r.Message))
	case client.StreamInformation:
		fmt.Fprintln(w, strings.TrimRight(r.Message, "\n"))
	}
}
