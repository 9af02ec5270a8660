package builtin

import (
	"context"
	"fmt"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

func measureObjectCmd() *engine.Command {
	return &engine.Command{
		Name:        "Measure-Object",
		Aliases:     []string{"measure"},
		Synopsis:    "Counts objects and computes the sum, average, minimum and maximum of numeric properties.",
		Description: "Measure-Object counts its input objects. With -Property it measures that property of each object; -Sum, -Average, -Minimum and -Maximum compute statistics of its numeric values.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to measure; usually piped in."),
			{Name: "Property", Type: engine.TypeStringArray, Position: 0, Help: "The numeric properties to measure."},
			{Name: "Sum", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Computes the sum."},
			{Name: "Average", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Computes the average."},
			{Name: "Maximum", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Finds the largest value."},
			{Name: "Minimum", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Finds the smallest value."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Measure-Object", Remarks: "Counts users."},
			{Code: "Get-CsOnlineUser | Measure-Object -Property Age -Average -Maximum", Remarks: "Average and maximum of a numeric property."},
		},
		Run: runMeasureObject,
	}
}

type measure struct {
	property string
	count    int32
	sum      float64
	min, max float64
	numeric  int // values seen
	found    bool
}

func runMeasureObject(ctx context.Context, inv *engine.Invocation) error {
	props := inv.Strings("Property")
	stats := inv.Switch("Sum") || inv.Switch("Average") || inv.Switch("Maximum") || inv.Switch("Minimum")
	var ms []*measure
	if len(props) == 0 {
		ms = []*measure{{found: true}}
	}
	for _, p := range props {
		ms = append(ms, &measure{property: p})
	}
	err := eachInput(ctx, inv, func(obj any) (bool, error) {
		for _, m := range ms {
			v := obj
			if m.property != "" {
				pv, ok := propertyOf(obj, m.property)
				if !ok {
					continue
				}
				v = pv
				m.found = true
			}
			m.count++
			if !stats {
				continue
			}
			f, ok := engine.ToDouble(v)
			if _, isBool := v.(bool); !ok || v == nil || isBool {
				inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{
					"detail": fmt.Sprintf("Input object %q is not numeric.", engine.ToText(v)),
				}), "NonNumericInputObject", engine.CategoryInvalidType, v))
				m.count--
				continue
			}
			if m.numeric == 0 || f < m.min {
				m.min = f
			}
			if m.numeric == 0 || f > m.max {
				m.max = f
			}
			m.sum += f
			m.numeric++
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.found {
			inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{
				"detail": fmt.Sprintf("The property %q cannot be found in the input for any objects.", m.property),
			}), "GenericMeasurePropertyNotFound", engine.CategoryInvalidArgument, m.property))
			continue
		}
		inv.Write(m.info(inv))
	}
	return nil
}

// info builds the GenericMeasureInfo object.
func (m *measure) info(inv *engine.Invocation) *psobject.Object {
	opt := func(on bool, v float64) any {
		if !on || m.numeric == 0 && !inv.Switch("Sum") {
			return nil
		}
		return v
	}
	avg := 0.0
	if m.numeric > 0 {
		avg = m.sum / float64(m.numeric)
	}
	var prop any
	if m.property != "" {
		prop = m.property
	}
	o := psobject.New([]string{"Microsoft.PowerShell.Commands.GenericMeasureInfo", "Microsoft.PowerShell.Commands.MeasureInfo", "System.Object"},
		psobject.P("Count", m.count),
		psobject.P("Average", opt(inv.Switch("Average"), avg)),
		psobject.P("Sum", opt(inv.Switch("Sum"), m.sum)),
		psobject.P("Maximum", opt(inv.Switch("Maximum"), m.max)),
		psobject.P("Minimum", opt(inv.Switch("Minimum"), m.min)),
		psobject.P("Property", prop),
	)
	return o
}
