package builtin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// Register adds psgate's built-in commands to c: Get-Command, Get-Help,
// Select-Object, Where-Object, Sort-Object, Measure-Object, Group-Object,
// Format-Table, Format-List, Out-String, Out-Default, Out-Null,
// Write-Output, Write-Host, Write-Error, Write-Warning, Write-Verbose,
// Write-Debug, Write-Information, Write-Progress, Invoke-Expression,
// Get-FormatData, Exit-PSSession, Get-Date, Start-Sleep, prompt and
// TabExpansion2 (callable but unlisted), with their usual aliases (select,
// where, ?, sort, measure, group, ft, fl, gcm, echo, iex...).
func Register(c *engine.Catalog) error {
	cmds := []*engine.Command{
		getCommandCmd(),
		getHelpCmd(),
		selectObjectCmd(),
		whereObjectCmd(),
		sortObjectCmd(),
		measureObjectCmd(),
		groupObjectCmd(),
		formatTableCmd(),
		formatListCmd(),
		outStringCmd(),
		outDefaultCmd(),
		outNullCmd(),
		writeOutputCmd(),
		writeHostCmd(),
		writeErrorCmd(),
		writeWarningCmd(),
		writeVerboseCmd(),
		writeDebugCmd(),
		writeInformationCmd(),
		writeProgressCmd(),
		invokeExpressionCmd(),
		getFormatDataCmd(),
		exitPSSessionCmd(),
		getDateCmd(),
		startSleepCmd(),
		promptCmd(),
		tabExpansion2Cmd(),
	}
	if err := c.Register(cmds...); err != nil {
		return fmt.Errorf("engine: built-ins: %w", err)
	}
	return nil
}

// inputObjectParam is the -InputObject parameter of the stream commands.
func inputObjectParam(help string) engine.Parameter {
	return engine.Parameter{Name: "InputObject", Type: engine.TypeObject, Position: engine.NotPositional, ValueFromPipeline: true, Help: help}
}

// eachInput calls fn for every input object: the pipeline input, or the
// -InputObject value (one object, as PowerShell treats it) when given on
// the command line. fn returns false to stop early.
func eachInput(ctx context.Context, inv *engine.Invocation, fn func(obj any) (bool, error)) error {
	if v, ok := inv.Params["InputObject"]; ok {
		_, err := fn(v)
		return err
	}
	if inv.Input == nil {
		return nil
	}
	for {
		obj, ok := inv.Input.Next(ctx)
		if !ok {
			return ctx.Err()
		}
		more, err := fn(obj)
		if err != nil || !more {
			return err
		}
	}
}

// allInput collects every input object.
func allInput(ctx context.Context, inv *engine.Invocation) ([]any, error) {
	var objs []any
	err := eachInput(ctx, inv, func(obj any) (bool, error) {
		objs = append(objs, obj)
		return true, nil
	})
	return objs, err
}

// propertyOf returns a property of any value: object properties by name
// (case-insensitive), dictionary entries by key, and Length of strings
// and Count of collections as .NET exposes them.
func propertyOf(v any, name string) (any, bool) {
	switch x := v.(type) {
	case *psobject.Object:
		if x == nil {
			return nil, false
		}
		return x.Get(name)
	case *psobject.Dict:
		for _, e := range x.Entries {
			if strings.EqualFold(engine.ToText(e.Key), name) {
				return e.Value, true
			}
		}
		if strings.EqualFold(name, "Count") {
			return int32(len(x.Entries)), true
		}
		return nil, false
	case string:
		if strings.EqualFold(name, "Length") {
			return int32(len([]rune(x))), true
		}
	case *engine.ErrorRecord:
		return x.Property(name)
	case time.Time:
		return dateProperty(x, name)
	case time.Duration:
		return timeSpanProperty(x, name)
	}
	if list, ok := engine.AsList(v); ok && (strings.EqualFold(name, "Count") || strings.EqualFold(name, "Length")) {
		return int32(len(list)), true
	}
	return nil, false
}

// propertyNames lists the property names of a value, in order.
func propertyNames(v any) []string {
	switch x := v.(type) {
	case *psobject.Object:
		if x == nil {
			return nil
		}
		props := x.Properties()
		names := make([]string, len(props))
		for i, p := range props {
			names[i] = p.Name
		}
		return names
	case *psobject.Dict:
		names := make([]string, 0, len(x.Entries))
		for _, e := range x.Entries {
			names = append(names, engine.ToText(e.Key))
		}
		return names
	case string:
		return []string{"Length"}
	case *engine.ErrorRecord:
		return []string{"Exception", "TargetObject", "CategoryInfo", "FullyQualifiedErrorId"}
	case time.Time:
		return dateProperties
	case time.Duration:
		return timeSpanProperties
	}
	return nil
}

// typeNameOf returns the most derived type name of a value.
func typeNameOf(v any) string {
	if o, ok := v.(*psobject.Object); ok && o != nil {
		return o.TypeName()
	}
	if _, ok := v.(*engine.ErrorRecord); ok {
		return "System.Management.Automation.ErrorRecord"
	}
	return engine.TypeName(v)
}

// expandProperties resolves property names with wildcards against an
// object's properties; names without wildcards are kept as written even
// when the object lacks them.
func expandProperties(v any, patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	for _, p := range patterns {
		if !engine.HasWildcard(p) {
			if name, ok := declaredName(v, p); ok {
				add(name)
			} else {
				add(p)
			}
			continue
		}
		w, err := engine.CompileWildcard(p, false)
		if err != nil {
			return nil, err
		}
		for _, n := range propertyNames(v) {
			if w.Match(n) {
				add(n)
			}
		}
	}
	return out, nil
}

// declaredName returns the declared spelling of a property.
func declaredName(v any, name string) (string, bool) {
	for _, n := range propertyNames(v) {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// stringsParam reads a parameter bound as Object[] or string[] as names.
func stringsParam(inv *engine.Invocation, name string) []string {
	switch v := inv.Params[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, engine.ToText(e))
		}
		return out
	case nil:
		return nil
	default:
		return []string{engine.ToText(v)}
	}
}

var dateProperties = []string{"Date", "Day", "DayOfWeek", "DayOfYear", "Hour", "Millisecond", "Minute", "Month", "Second", "Ticks", "Year"}

// unixEpochTicks is 1970-01-01 in .NET ticks.
const unixEpochTicks = 621355968000000000

// dateProperty exposes System.DateTime properties.
func dateProperty(t time.Time, name string) (any, bool) {
	switch strings.ToLower(name) {
	case "date":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()), true
	case "day":
		return int32(t.Day()), true
	case "dayofweek":
		return psobject.Enum{Type: "System.DayOfWeek", Name: t.Weekday().String(), Value: int32(t.Weekday())}, true
	case "dayofyear":
		return int32(t.YearDay()), true
	case "hour":
		return int32(t.Hour()), true
	case "millisecond":
		return int32(t.Nanosecond() / 1e6), true
	case "minute":
		return int32(t.Minute()), true
	case "month":
		return int32(t.Month()), true
	case "second":
		return int32(t.Second()), true
	case "ticks":
		return t.UnixNano()/100 + unixEpochTicks, true
	case "year":
		return int32(t.Year()), true
	}
	return nil, false
}

var timeSpanProperties = []string{"Ticks", "Days", "Hours", "Milliseconds", "Minutes", "Seconds", "TotalDays", "TotalHours", "TotalMilliseconds", "TotalMinutes", "TotalSeconds"}

// timeSpanProperty exposes System.TimeSpan properties.
func timeSpanProperty(d time.Duration, name string) (any, bool) {
	switch strings.ToLower(name) {
	case "ticks":
		return int64(d / 100), true
	case "days":
		return int32(d / (24 * time.Hour)), true
	case "hours":
		return int32(d / time.Hour % 24), true
	case "minutes":
		return int32(d / time.Minute % 60), true
	case "seconds":
		return int32(d / time.Second % 60), true
	case "milliseconds":
		return int32(d / time.Millisecond % 1000), true
	case "totaldays":
		return d.Hours() / 24, true
	case "totalhours":
		return d.Hours(), true
	case "totalminutes":
		return d.Minutes(), true
	case "totalseconds":
		return d.Seconds(), true
	case "totalmilliseconds":
		return float64(d) / float64(time.Millisecond), true
	}
	return nil, false
}
