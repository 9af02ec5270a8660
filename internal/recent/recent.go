// Package recent remembers the last few values of a kind in fixed memory:
// the ids of commands and pipelines that just ended, so that a client's
// Signal or Send arriving right after the end is accepted rather than
// refused as unknown. Clients send those at once (pywinrm, pypsrp and
// Windows PowerShell signal right after the last Receive), so a short
// memory is enough, and a shell that runs commands for hours holds no
// more than this.
package recent

// Size is how many values a Ring remembers.
const Size = 64

// Ring remembers the last Size values added. The zero value is empty and
// allocates nothing until the first Add: an idle shell pays nothing.
type Ring[T comparable] struct {
	vals *[Size]T
	used int // filled slots, up to Size
	next int // the slot the next Add writes
}

// Add remembers v, forgetting the oldest value once Size are held.
func (r *Ring[T]) Add(v T) {
	if r.vals == nil {
		r.vals = new([Size]T)
	}
	r.vals[r.next] = v
	r.next = (r.next + 1) % Size
	r.used = min(r.used+1, Size)
}

// All returns the remembered values, oldest first (to hand them to
// another Ring by Add in the same order).
func (r *Ring[T]) All() []T {
	if r.vals == nil {
		return nil
	}
	out := make([]T, 0, r.used)
	start := (r.next - r.used + Size) % Size
	for i := range r.used {
		out = append(out, r.vals[(start+i)%Size])
	}
	return out
}

// Has reports whether v is among the remembered values.
func (r *Ring[T]) Has(v T) bool {
	if r.vals == nil {
		return false
	}
	for _, x := range r.vals[:r.used] {
		if x == v {
			return true
		}
	}
	return false
}
