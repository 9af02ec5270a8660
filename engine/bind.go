package engine

import (
	"sort"
	"strings"
	"unicode"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/psobject"
)

const bindingException = "System.Management.Automation.ParameterBindingException"

// binder binds one command's arguments with PowerShell's rules.
type binder struct {
	cmd    *Command
	params map[string]any // canonical name → converted value
	// sets are the parameter sets still possible, in declaration order.
	sets   []string
	common commonSettings
}

// paramRef is a resolved parameter name: a command parameter or a common
// parameter.
type paramRef struct {
	p *Parameter
	c *commonParam
}

func (r paramRef) name() string {
	if r.p != nil {
		return r.p.Name
	}
	return r.c.name
}

func (r paramRef) typeName() string {
	if r.p != nil {
		return r.p.Type.String()
	}
	return r.c.typeName
}

func (r paramRef) isSwitch() bool {
	if r.p != nil {
		return r.p.Type == TypeSwitch
	}
	return r.c.kind == commonSwitch
}

// bindArgs binds the command-line arguments: named parameters, then
// positional ones. It leaves the parameter set open when the arguments do
// not decide it; call finish (or bindInput, then finish) next.
func bindArgs(cmd *Command, args []Argument) (*binder, error) {
	b := &binder{cmd: cmd, params: map[string]any{}, sets: parameterSets(cmd), common: defaultCommon()}
	var positional []Argument
	boundCommon := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.Name == "" {
			positional = append(positional, a)
			continue
		}
		ref, err := b.resolve(parameterName(a.Name))
		if err != nil {
			return nil, err
		}
		value := a.Value
		if !a.HasValue {
			switch {
			case ref.isSwitch():
				value = true
			case i+1 < len(args) && args[i+1].Name == "":
				value = args[i+1].Value
				i++
			default:
				return nil, b.error("MissingArgument", CategoryInvalidArgument, bindingException,
					psgate.E(psgate.CodeMissingArgument, psgate.Args{"name": ref.name(), "type": ref.typeName()}))
			}
		}
		if _, dup := b.params[ref.name()]; dup || boundCommon[ref.name()] {
			return nil, b.bindError(ref.name(), ref.typeName(), "ParameterAlreadyBound",
				"The parameter was specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".")
		}
		if ref.c != nil {
			boundCommon[ref.c.name] = true
			if err := b.setCommon(ref.c, value); err != nil {
				return nil, err
			}
			continue
		}
		if err := b.bind(ref.p, value); err != nil {
			return nil, err
		}
	}
	b.narrowSets()
	if len(b.sets) == 0 {
		return nil, b.ambiguousSet()
	}
	if err := b.bindPositional(positional); err != nil {
		return nil, err
	}
	return b, nil
}

// StructuredArgument turns one argument of a structured command (a PSRP
// CREATE_PIPELINE Args entry: name N, value V, with "" for a Nil N) into
// an Argument, reading the name the way PowerShell's server does
// (CommandParameter.ToCommandParameterInternal):
//
//   - no name: a positional value;
//   - a plain name ("Identity", as AddParameter sends it): the parameter
//     with V as its value, even when V is Nil;
//   - a name starting with a dash is a parameter token as a script would
//     have it: trailing whitespace is dropped, and a trailing colon
//     ("-Identity:", "-Identity: ") means V is the value. Without the
//     colon a Nil V makes the parameter name-only ("-PassThru", or
//     "-Identity" whose value is the next, positional, argument); any
//     other V is the value.
//
// The result binds exactly as the same text parsed from a command line.
func StructuredArgument(name string, value any) Argument {
	if name == "" {
		return Argument{Value: value, HasValue: true}
	}
	dash := syntax.DashLen(name)
	if dash == 0 {
		return Argument{Name: name, Value: value, HasValue: true}
	}
	text := strings.TrimRightFunc(name, unicode.IsSpace)
	colon := len(text) > dash && text[len(text)-1] == ':'
	param := text[dash:]
	if colon {
		param = param[:len(param)-1]
	}
	if param == "" {
		// A lone dash: keep it a parameter token (it names no parameter)
		// rather than let it pass for a positional value.
		param = "-"
	}
	if !colon && value == nil {
		return Argument{Name: param}
	}
	return Argument{Name: param, Value: value, HasValue: true}
}

// parameterName drops one leading dash from a parameter name, as
// PowerShell's parameter lookup does: structured commands may send
// "-Name" as a plain name.
func parameterName(name string) string {
	return name[syntax.DashLen(name):]
}

// resolve finds the parameter a name designates: an exact name or alias,
// else an unambiguous prefix. When a prefix matches several parameters of
// which exactly one is the command's own (the others common parameters),
// the command's parameter wins, as in PowerShell.
func (b *binder) resolve(name string) (paramRef, error) {
	notFound := func() (paramRef, error) {
		return paramRef{}, b.error("NamedParameterNotFound", CategoryInvalidArgument, bindingException,
			psgate.E(psgate.CodeParameterNotFound, psgate.Args{"name": name, "command": b.cmd.Name}))
	}
	if name == "" {
		return notFound()
	}
	var matches []paramRef
	candidates := b.candidates()
	for _, r := range candidates {
		for _, n := range r.names() {
			if strings.EqualFold(n, name) {
				return r, nil
			}
		}
	}
	lower := strings.ToLower(name)
	own := 0
	var ownMatch paramRef
	for _, r := range candidates {
		for _, n := range r.names() {
			if strings.HasPrefix(strings.ToLower(n), lower) {
				matches = append(matches, r)
				if r.p != nil {
					own++
					ownMatch = r
				}
				break
			}
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) == 0:
		return notFound()
	case own == 1:
		return ownMatch, nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = "-" + m.name()
	}
	return paramRef{}, b.error("AmbiguousParameter", CategoryInvalidArgument, bindingException,
		psgate.E(psgate.CodeAmbiguousParameter, psgate.Args{"name": name, "matches": strings.Join(names, " ")}))
}

func (r paramRef) names() []string {
	if r.p != nil {
		return append([]string{r.p.Name}, r.p.Aliases...)
	}
	return append([]string{r.c.name}, r.c.aliases...)
}

// candidates lists the command's parameters then the common ones it takes.
func (b *binder) candidates() []paramRef {
	out := make([]paramRef, 0, len(b.cmd.Parameters)+len(commonParameters))
	for i := range b.cmd.Parameters {
		out = append(out, paramRef{p: &b.cmd.Parameters[i]})
	}
	for i := range commonParameters {
		c := &commonParameters[i]
		if !c.shouldProcess || b.cmd.SupportsShouldProcess {
			out = append(out, paramRef{c: c})
		}
	}
	return out
}

// bind converts, validates and records a parameter value.
func (b *binder) bind(p *Parameter, value any) error {
	v, detail := convertValue(p.Type, p.Name, value)
	if detail != "" {
		id := "CannotConvertArgumentNoMessage"
		if p.Type == TypeBool || p.Type == TypeSwitch {
			id = "ParameterArgumentTransformationError"
		}
		return b.bindError(p.Name, p.Type.String(), id, detail)
	}
	v, detail = validationDetail(p, v)
	if detail == "" && p.Mandatory && !p.ValidateNotNullOrEmpty && p.Type != TypeSwitch && p.Type != TypeBool {
		detail = nullOrEmpty(v)
	}
	if detail != "" {
		return b.error("ParameterArgumentValidationError", CategoryInvalidData,
			"System.Management.Automation.ParameterBindingValidationException",
			psgate.E(psgate.CodeParameterValidation, psgate.Args{"name": p.Name, "detail": detail}))
	}
	b.params[p.Name] = v
	return nil
}

// narrowSets keeps the parameter sets that contain every bound parameter.
func (b *binder) narrowSets() {
	kept := b.sets[:0:0]
	for _, s := range b.sets {
		ok := true
		for name := range b.params {
			if p, _ := b.cmd.Parameter(name); p != nil && !p.inSet(s) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, s)
		}
	}
	b.sets = kept
}

// bindPositional binds positional arguments by position within the first
// possible parameter set (the default set first) that has room for them.
func (b *binder) bindPositional(args []Argument) error {
	if len(args) == 0 {
		return nil
	}
	order := b.setOrder()
	var best []*Parameter
	for _, s := range order {
		slots := b.positionalSlots(s)
		if len(slots) >= len(args) {
			best = slots
			break
		}
		if best == nil {
			best = slots
		}
	}
	for i, a := range args {
		if i >= len(best) {
			if rest := b.remainingParam(); rest != nil {
				return b.bindRemaining(rest, args[i:])
			}
			return b.error("PositionalParameterNotFound", CategoryInvalidArgument, bindingException,
				psgate.E(psgate.CodePositionalNotFound, psgate.Args{"value": argText(a.Value)}))
		}
		if err := b.bind(best[i], a.Value); err != nil {
			return err
		}
	}
	b.narrowSets()
	return nil
}

// remainingParam returns the parameter that takes the remaining
// positional arguments in the possible sets, if any.
func (b *binder) remainingParam() *Parameter {
	b.narrowSets()
	for i := range b.cmd.Parameters {
		p := &b.cmd.Parameters[i]
		if !p.ValueFromRemainingArguments {
			continue
		}
		for _, s := range b.sets {
			if p.inSet(s) {
				return p
			}
		}
	}
	return nil
}

// bindRemaining adds extra positional arguments to p's value.
func (b *binder) bindRemaining(p *Parameter, args []Argument) error {
	var values []any
	if v, ok := b.params[p.Name]; ok {
		if list, isList := asList(v); isList {
			values = append(values, list...)
		} else {
			values = append(values, v)
		}
		delete(b.params, p.Name)
	}
	for _, a := range args {
		values = append(values, a.Value)
	}
	if err := b.bind(p, values); err != nil {
		return err
	}
	b.narrowSets()
	return nil
}

// setOrder lists the possible sets with the default set first.
func (b *binder) setOrder() []string {
	order := make([]string, 0, len(b.sets))
	for _, s := range b.sets {
		if s == b.cmd.DefaultParameterSet {
			order = append(order, s)
		}
	}
	for _, s := range b.sets {
		if s != b.cmd.DefaultParameterSet {
			order = append(order, s)
		}
	}
	return order
}

// positionalSlots lists the unbound positional parameters of set by
// position.
func (b *binder) positionalSlots(set string) []*Parameter {
	var slots []*Parameter
	for i := range b.cmd.Parameters {
		p := &b.cmd.Parameters[i]
		if p.Position == NotPositional || !p.inSet(set) {
			continue
		}
		if _, bound := b.params[p.Name]; bound {
			continue
		}
		slots = append(slots, p)
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].Position < slots[j].Position })
	return slots
}

// clone copies the binder for one pipeline input object.
func (b *binder) clone() *binder {
	c := *b
	c.params = make(map[string]any, len(b.params)+1)
	for k, v := range b.params {
		c.params[k] = v
	}
	c.sets = append([]string(nil), b.sets...)
	return &c
}

// bindInput binds one pipeline input object: by value without coercion,
// then by property name, then by value with coercion.
func (b *binder) bindInput(obj any) error {
	bound := false
	inSets := func(p *Parameter) bool {
		for _, s := range b.sets {
			if p.inSet(s) {
				return true
			}
		}
		return false
	}
	unbound := func(p *Parameter) bool {
		_, ok := b.params[p.Name]
		return !ok && inSets(p)
	}
	byValue := func(coerce bool) error {
		for i := range b.cmd.Parameters {
			p := &b.cmd.Parameters[i]
			if !p.ValueFromPipeline || !unbound(p) || !coerce && !exactType(p.Type, obj) {
				continue
			}
			if _, detail := convertValue(p.Type, p.Name, obj); detail != "" {
				continue
			}
			if err := b.bind(p, obj); err != nil {
				return err
			}
			bound = true
			b.narrowSets()
			return nil
		}
		return nil
	}
	if err := byValue(false); err != nil {
		return err
	}
	if o, ok := obj.(*psobject.Object); ok && o != nil {
		for i := range b.cmd.Parameters {
			p := &b.cmd.Parameters[i]
			if !p.ValueFromPipelineByPropertyName || !unbound(p) {
				continue
			}
			for _, n := range append([]string{p.Name}, p.Aliases...) {
				if v, ok := o.Get(n); ok {
					if err := b.bind(p, v); err != nil {
						return err
					}
					bound = true
					b.narrowSets()
					break
				}
			}
		}
	}
	if !bound {
		if err := byValue(true); err != nil {
			return err
		}
	}
	if !bound {
		return b.error("InputObjectNotBound", CategoryInvalidArgument, bindingException,
			psgate.E(psgate.CodeInputNotBound, nil))
	}
	return nil
}

// finish resolves the parameter set and checks mandatory parameters.
// With pendingInput, parameters that take pipeline input are left for
// bindInput and not yet required.
func (b *binder) finish(pendingInput bool) (string, error) {
	if len(b.sets) == 0 {
		return "", b.ambiguousSet()
	}
	set := b.sets[0]
	if len(b.sets) > 1 {
		var satisfied []string
		for _, s := range b.sets {
			if len(b.missing(s, pendingInput)) == 0 {
				satisfied = append(satisfied, s)
			}
		}
		switch {
		case len(satisfied) == 1:
			set = satisfied[0]
		case b.cmd.DefaultParameterSet != "" && contains(b.sets, b.cmd.DefaultParameterSet) &&
			(len(satisfied) == 0 || contains(satisfied, b.cmd.DefaultParameterSet)):
			set = b.cmd.DefaultParameterSet
		case pendingInput:
			// Input may still decide; bindInput narrows the sets.
			return "", nil
		default:
			return "", b.ambiguousSet()
		}
	}
	if missing := b.missing(set, pendingInput); len(missing) > 0 {
		return "", b.error("MissingMandatoryParameter", CategoryInvalidArgument, bindingException,
			psgate.E(psgate.CodeMissingMandatory, psgate.Args{"names": strings.Join(missing, " ")}))
	}
	return set, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// missing lists the mandatory parameters of set that are not bound.
func (b *binder) missing(set string, pendingInput bool) []string {
	var out []string
	for _, p := range b.cmd.Parameters {
		if !p.Mandatory || !p.inSet(set) {
			continue
		}
		if _, ok := b.params[p.Name]; ok {
			continue
		}
		if pendingInput && (p.ValueFromPipeline || p.ValueFromPipelineByPropertyName) {
			continue
		}
		out = append(out, p.Name)
	}
	return out
}

func (b *binder) ambiguousSet() error {
	return b.error("AmbiguousParameterSet", CategoryInvalidArgument, bindingException,
		psgate.E(psgate.CodeAmbiguousParamSet, psgate.Args{"command": b.cmd.Name}))
}

// bindError is a CodeParameterBinding error.
func (b *binder) bindError(name, typeName, id, detail string) error {
	return b.error(id, CategoryInvalidArgument, bindingException,
		psgate.E(psgate.CodeParameterBinding, psgate.Args{"name": name, "detail": detail, "type": typeName}))
}

func (b *binder) convertError(name, typeName, detail string) error {
	return b.bindError(name, typeName, "CannotConvertArgumentNoMessage", detail)
}

// error builds the terminating error of a binding failure.
func (b *binder) error(id string, cat Category, exception string, e *psgate.Error) error {
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   e,
		ExceptionType:         exception,
		FullyQualifiedErrorID: id + "," + b.cmd.Name,
		Category:              cat,
		Activity:              b.cmd.Name,
		Reason:                shortTypeName(exception),
	}}
}

// shortTypeName returns the last dotted part of a .NET type name.
func shortTypeName(t string) string {
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}
