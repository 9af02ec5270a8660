package builtin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/engine"
)

func getDateCmd() *engine.Command {
	return &engine.Command{
		Name:        "Get-Date",
		Synopsis:    "Gets the current date and time.",
		Description: "Get-Date writes the server's current date and time, or the given -Date, optionally as text in a .NET format (-Format).",
		Parameters: []engine.Parameter{
			{Name: "Date", Type: engine.TypeDateTime, Position: 0, Aliases: []string{"LastWriteTime"}, Help: "The date to write instead of now."},
			{Name: "Format", Type: engine.TypeString, Position: engine.NotPositional, Help: "A .NET date format, such as yyyy-MM-dd or o."},
		},
		OutputType: []string{"System.DateTime", "System.String"},
		Examples: []engine.Example{
			{Code: "Get-Date -Format 'yyyy-MM-dd HH:mm'", Remarks: "The current time as text."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			t, ok := inv.Time("Date")
			if !ok {
				t = inv.Runspace.Now()
			}
			if inv.Bound("Format") {
				inv.Write(formatDotnetTime(t, inv.String("Format")))
				return nil
			}
			inv.Write(t)
			return nil
		},
	}
}

// standardFormats are .NET's one-letter DateTime formats (invariant and
// en-US patterns).
var standardFormats = map[string]string{
	"d": "M/d/yyyy", "D": "dddd, MMMM d, yyyy", "t": "h:mm tt", "T": "h:mm:ss tt",
	"f": "dddd, MMMM d, yyyy h:mm tt", "F": "dddd, MMMM d, yyyy h:mm:ss tt",
	"g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt",
	"s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss", "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
	"o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	"r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	"m": "MMMM d", "M": "MMMM d", "y": "MMMM yyyy", "Y": "MMMM yyyy",
}

// formatDotnetTime formats t with a .NET DateTime format string.
func formatDotnetTime(t time.Time, f string) string {
	if std, ok := standardFormats[f]; ok {
		switch f {
		case "u", "r", "R":
			t = t.UTC()
		}
		f = std
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		switch c {
		case 'y':
			switch {
			case n <= 2:
				fmt.Fprintf(&b, "%0*d", n, t.Year()%100)
			default:
				fmt.Fprintf(&b, "%0*d", n, t.Year())
			}
		case 'M':
			switch n {
			case 1:
				fmt.Fprintf(&b, "%d", int(t.Month()))
			case 2:
				fmt.Fprintf(&b, "%02d", int(t.Month()))
			case 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(t.Month().String())
			}
		case 'd':
			switch n {
			case 1:
				fmt.Fprintf(&b, "%d", t.Day())
			case 2:
				fmt.Fprintf(&b, "%02d", t.Day())
			case 3:
				b.WriteString(t.Weekday().String()[:3])
			default:
				b.WriteString(t.Weekday().String())
			}
		case 'H':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Hour())
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%0*d", min(n, 2), h)
		case 'm':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Minute())
		case 's':
			fmt.Fprintf(&b, "%0*d", min(n, 2), t.Second())
		case 'f', 'F':
			digits := fmt.Sprintf("%09d", t.Nanosecond())[:min(n, 7)]
			if c == 'F' {
				digits = strings.TrimRight(digits, "0")
			}
			b.WriteString(digits)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			switch n {
			case 1:
				fmt.Fprintf(&b, "%c%d", sign, off/3600)
			case 2:
				fmt.Fprintf(&b, "%c%02d", sign, off/3600)
			default:
				fmt.Fprintf(&b, "%c%02d:%02d", sign, off/3600, off%3600/60)
			}
		case 'K':
			if _, off := t.Zone(); off == 0 && t.Location() == time.UTC {
				b.WriteString(strings.Repeat("Z", n))
			} else {
				b.WriteString(t.Format("-07:00"))
			}
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				b.WriteString(f[i+1:])
				return b.String()
			}
			b.WriteString(f[i+1 : i+1+end])
			i += end + 2
			continue
		case '\\':
			if i+1 < len(f) {
				b.WriteByte(f[i+1])
			}
			i += 2
			continue
		default:
			b.WriteString(f[i : i+n])
		}
		i += n
	}
	return b.String()
}
