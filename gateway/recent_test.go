package gateway

import (
	"fmt"
	"testing"
)

// TestRecentIDsBounded: a shell that has run many commands remembers the
// last ones (a late Signal of any of them is accepted) and no more.
func TestRecentIDsBounded(t *testing.T) {
	var r recentIDs
	if r.has("") || r.has("A") {
		t.Fatal("an empty memory remembers something")
	}
	const n = 10_000
	for i := range n {
		r.add(fmt.Sprintf("ID-%d", i))
	}
	for i := n - recentFinished; i < n; i++ {
		if !r.has(fmt.Sprintf("ID-%d", i)) {
			t.Errorf("command %d of the last %d is forgotten", i, recentFinished)
		}
	}
	if r.has(fmt.Sprintf("ID-%d", n-recentFinished-1)) || r.has("ID-0") {
		t.Errorf("commands older than the last %d are still remembered", recentFinished)
	}
	if r.has("") {
		t.Error("the empty ID is remembered")
	}
}
