package clixml

import "github.com/psgate/psgate/psobject"

// What a decoder reuses within one input so that decoding allocates little
// more than the values: RefId tables, the stacks collections are gathered
// on, boxed enums and shared type name lists.

// refTable maps RefIds to what they name: a slice for the small, dense
// ids serializers write (0, 1, 2…), a map for others, so that a hostile
// RefId cannot buy a large slice.
type refTable[T any] struct {
	small []refSlot[T]
	big   map[int]T
}

type refSlot[T any] struct {
	v  T
	ok bool
}

func (t *refTable[T]) get(id int) (T, bool) {
	if id < len(t.small) && t.small[id].ok {
		return t.small[id].v, true
	}
	v, ok := t.big[id] // put may have placed it here before small grew
	return v, ok
}

// put sets id to v; when id was set before, v replaces it for get.
func (t *refTable[T]) put(id int, v T) {
	if id >= len(t.small) && id <= 2*len(t.small)+32 {
		if t.small == nil {
			t.small = make([]refSlot[T], 0, 32)
		}
		t.small = append(t.small, make([]refSlot[T], id+1-len(t.small))...)
	}
	if id < len(t.small) {
		t.small[id] = refSlot[T]{v, true}
		delete(t.big, id)
		return
	}
	if t.big == nil {
		t.big = make(map[int]T)
	}
	t.big[id] = v
}

// pop removes the elements of *stack above base and returns them in a new
// slice, nil when there are none.
func pop[T any](stack *[]T, base int) []T {
	s := *stack
	if len(s) == base {
		return nil
	}
	out := append([]T(nil), s[base:]...)
	clear(s[base:])
	*stack = s[:base]
	return out
}

// keepNames returns a copy of a type name list that a <TNRef> shares, for
// a value to keep.
func keepNames(names []string) []string {
	return append([]string(nil), names...)
}

// boxEnum returns e as an interface value, reusing one boxed before for an
// equal enum: a message repeats the same few (PipelineResultTypes None in
// every command), and a boxed value cannot be changed.
func (d *decoder) boxEnum(e psobject.Enum) any {
	for i := range d.enums {
		if b := &d.enums[i]; b.v != nil && b.e == e {
			return b.v
		}
	}
	v := any(e)
	d.enums[d.nextEnum%len(d.enums)] = boxedEnum{e, v}
	d.nextEnum++
	return v
}

type boxedEnum struct {
	e psobject.Enum
	v any
}
