package recent

import (
	"fmt"
	"slices"
	"testing"
)

// A ring that was given many values remembers the last Size of them and
// no more, and nothing it was not given (not the zero value of a slot).
func TestRingBounded(t *testing.T) {
	var r Ring[string]
	if r.Has("") || r.Has("A") || r.All() != nil {
		t.Fatal("an empty ring remembers something")
	}
	const n = 10_000
	for i := range n {
		r.Add(fmt.Sprintf("ID-%d", i))
	}
	for i := n - Size; i < n; i++ {
		if !r.Has(fmt.Sprintf("ID-%d", i)) {
			t.Errorf("value %d of the last %d is forgotten", i, Size)
		}
	}
	if r.Has(fmt.Sprintf("ID-%d", n-Size-1)) || r.Has("ID-0") {
		t.Errorf("values older than the last %d are still remembered", Size)
	}
	var few Ring[string]
	few.Add("A")
	if few.Has("") {
		t.Error("the zero value of an unused slot is remembered")
	}
}

// All lists oldest first, before and after the ring wrapped, and a ring
// rebuilt from it lists the same.
func TestRingAllInOrder(t *testing.T) {
	for _, n := range []int{3, Size, Size + 5} {
		var r Ring[int]
		for i := range n {
			r.Add(i)
		}
		l := r.All()
		if len(l) != min(n, Size) || l[0] != max(0, n-Size) || l[len(l)-1] != n-1 {
			t.Errorf("after %d: All() = %d values from %d to %d", n, len(l), l[0], l[len(l)-1])
		}
		var back Ring[int]
		for _, v := range l {
			back.Add(v)
		}
		if !slices.Equal(back.All(), l) {
			t.Errorf("after %d: a ring rebuilt from All() lists differently", n)
		}
	}
}
