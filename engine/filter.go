package engine

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/psobject"
)

// Filter is a parsed -Filter expression (syntax.ParseFilter), ready to
// match objects: comparisons of the form `Property -op value` joined by
// -and / -or, with parentheses.
type Filter struct {
	text   string
	parsed syntax.FilterNode
	root   filterNode
}

type filterNode interface {
	match(obj *psobject.Object) (bool, error)
	props(add func(string))
}

type filterAnd struct{ left, right filterNode }
type filterOr struct{ left, right filterNode }

type filterCmp struct {
	property string
	op       cmpOp
	value    any
	re       *regexp.Regexp // compiled -match / -notmatch pattern
}

// ParseFilter parses a filter such as
//
//	Department -eq 'Sales' -and (Enabled -eq $true -or City -like "Par*")
//
// Errors are *psgate.Error with CodeInvalidFilter (or CodeLanguageNotAllowed
// when the filter uses variables or script syntax).
func ParseFilter(filter string) (*Filter, error) {
	parsed, err := syntax.ParseFilter(filter)
	if err != nil {
		se, ok := err.(*syntax.Error)
		if !ok {
			return nil, err
		}
		if se.Kind == syntax.KindNotAllowed {
			return nil, psgate.E(psgate.CodeLanguageNotAllowed, psgate.Args{"construct": se.Construct})
		}
		return nil, psgate.E(psgate.CodeInvalidFilter, psgate.Args{
			"filter": filter,
			"detail": se.Detail,
			"column": strconv.Itoa(se.Pos.Column),
		})
	}
	return &Filter{text: filter, parsed: parsed, root: filterTree(parsed)}, nil
}

// filterTree builds the evaluation tree of a parsed filter.
func filterTree(n syntax.FilterNode) filterNode {
	switch x := n.(type) {
	case *syntax.And:
		return &filterAnd{filterTree(x.Left), filterTree(x.Right)}
	case *syntax.Or:
		return &filterOr{filterTree(x.Left), filterTree(x.Right)}
	case *syntax.Comparison:
		return &filterCmp{property: x.Property, op: cmpOp(x.Op), value: literalValue(x.Value), re: x.Pattern}
	}
	panic("engine: unknown filter node")
}

// Match reports whether obj satisfies the filter. A property the object
// does not have is $null. Errors come from comparisons that cannot be made
// (for example Age -gt 'abc' on a number).
func (f *Filter) Match(obj *psobject.Object) (bool, error) {
	return f.root.match(obj)
}

// Properties lists the property names the filter refers to, in order of
// first use, so a cmdlet can reject names its objects do not have.
func (f *Filter) Properties() []string {
	var out []string
	seen := map[string]bool{}
	f.root.props(func(name string) {
		if k := strings.ToLower(name); !seen[k] {
			seen[k] = true
			out = append(out, name)
		}
	})
	return out
}

// String returns the filter in canonical form.
func (f *Filter) String() string { return f.parsed.String() }

func (n *filterAnd) match(obj *psobject.Object) (bool, error) {
	ok, err := n.left.match(obj)
	if err != nil || !ok {
		return false, err
	}
	return n.right.match(obj)
}

func (n *filterOr) match(obj *psobject.Object) (bool, error) {
	ok, err := n.left.match(obj)
	if err != nil || ok {
		return ok, err
	}
	return n.right.match(obj)
}

func (n *filterCmp) match(obj *psobject.Object) (bool, error) {
	var v any
	if obj != nil {
		v, _ = obj.Get(n.property)
	}
	return n.op.eval(v, n.value, n.re)
}

func (n *filterAnd) props(add func(string)) { n.left.props(add); n.right.props(add) }
func (n *filterOr) props(add func(string))  { n.left.props(add); n.right.props(add) }
func (n *filterCmp) props(add func(string)) { add(n.property) }
