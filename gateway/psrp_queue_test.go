package gateway

import (
	"bytes"
	"testing"
)

// TestQueueTakeAndGiveBack: a Receive takes whole fragments up to its
// limit (at least one, however large), in order; output whose response
// did not reach the client comes back to the front, and a lease of an
// older client does nothing.
func TestQueueTakeAndGiveBack(t *testing.T) {
	frags := [][]byte{[]byte("aaaa"), []byte("bb"), []byte("cccccc"), []byte("d")}
	var q queue
	q.push(frags)
	steps := []struct {
		limit int
		want  string
	}{
		{1, "aaaa"},     // one fragment even over the limit
		{8, "bbcccccc"}, // two, exactly the limit
		{100, "d"},
	}
	var leases []lease
	for _, s := range steps {
		data, l := q.take(s.limit)
		if string(data) != s.want {
			t.Errorf("take(%d) = %q, want %q", s.limit, data, s.want)
		}
		leases = append(leases, l)
	}
	if len(q.frags) != 0 || q.bytes != 0 {
		t.Fatalf("after taking everything: %d fragments, %d bytes left", len(q.frags), q.bytes)
	}
	// The second and third responses were lost: their output returns,
	// in order, and is taken again whole.
	q.giveBack(leases[2])
	q.giveBack(leases[1])
	if data, _ := q.take(100); string(data) != "bbccccccd" || q.bytes != 0 {
		t.Errorf("after giving back: take = %q (%d bytes left), want %q", data, q.bytes, "bbccccccd")
	}
	// A lone fragment is handed out as it is; the queue's copy of the
	// output is what a giveBack restores, unchanged.
	q.push([][]byte{[]byte("eee")})
	data, l := q.take(100)
	q.giveBack(l)
	if again, _ := q.take(100); !bytes.Equal(again, data) || string(again) != "eee" {
		t.Errorf("a lone fragment given back = %q, want %q", again, "eee")
	}
	// A lease from before a reset (another client) is void.
	q.push([][]byte{[]byte("ff")})
	_, old := q.take(100)
	q.reset()
	q.giveBack(old)
	if len(q.frags) != 0 {
		t.Errorf("a lease from before the reset came back: %q", q.frags)
	}
}
