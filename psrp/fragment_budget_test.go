package psrp

import (
	"errors"
	"testing"
)

// countingBudget is a Budget with one limit that records what it holds.
type countingBudget struct {
	limit, held, peak int
}

var errTestBudget = errors.New("test budget exceeded")

func (b *countingBudget) Reserve(n int) error {
	if b.limit > 0 && b.held+n > b.limit {
		return errTestBudget
	}
	b.held += n
	b.peak = max(b.peak, b.held)
	return nil
}

func (b *countingBudget) Release(n int) {
	b.held -= n
	if b.held < 0 {
		panic("budget released more than was reserved")
	}
}

func startFragment(id uint64, n int) []byte {
	return Fragment{ObjectID: id, Start: true, Blob: make([]byte, n)}.AppendEncode(nil)
}

func TestReassemblerChargesBudget(t *testing.T) {
	b := &countingBudget{}
	r := Reassembler{Budget: b}
	msg := Message{Destination: DestinationServer, Type: MsgPipelineInput, Data: make([]byte, 560)}.Encode()
	first := Fragment{ObjectID: 1, Start: true, Blob: msg[:300]}
	last := Fragment{ObjectID: 1, FragmentID: 1, End: true, Blob: msg[300:]}
	if _, err := r.Write(first.AppendEncode(nil)); err != nil {
		t.Fatal(err)
	}
	if b.held != 300 || r.PendingBytes() != 300 {
		t.Fatalf("after a start fragment: budget holds %d, reassembler %d, want 300", b.held, r.PendingBytes())
	}
	if msgs, err := r.Write(last.AppendEncode(nil)); err != nil || len(msgs) != 1 {
		t.Fatalf("end fragment: %v, %d messages", err, len(msgs))
	}
	if b.held != 0 {
		t.Fatalf("a completed message leaves %d bytes charged", b.held)
	}
	// Whole messages in one fragment are never charged.
	whole := Fragment{ObjectID: 2, Start: true, End: true, Blob: msg}
	if _, err := r.Write(whole.AppendEncode(nil)); err != nil || b.peak != 300 {
		t.Fatalf("whole message: %v, peak %d", err, b.peak)
	}
}

func TestReassemblerBudgetRefusalReleases(t *testing.T) {
	b := &countingBudget{limit: 1000}
	r := Reassembler{Budget: b}
	var err error
	for id := uint64(1); id <= 5 && err == nil; id++ {
		_, err = r.Write(startFragment(id, 300))
	}
	if !errors.Is(err, ErrOverBudget) || !errors.Is(err, errTestBudget) {
		t.Fatalf("err = %v, want ErrOverBudget wrapping the budget's error", err)
	}
	if errors.Is(err, ErrBadFragment) {
		t.Fatalf("a budget refusal is not a broken stream: %v", err)
	}
	if b.held != 0 || r.PendingBytes() != 0 {
		t.Fatalf("after the refusal the budget holds %d bytes, want 0", b.held)
	}
	if _, err2 := r.Write(startFragment(9, 1)); !errors.Is(err2, ErrOverBudget) || b.held != 0 {
		t.Fatalf("poisoned reassembler: %v, budget %d", err2, b.held)
	}
}

func TestReassemblerErrorAndCloseRelease(t *testing.T) {
	b := &countingBudget{}
	r := Reassembler{Budget: b}
	if _, err := r.Write(startFragment(1, 500)); err != nil {
		t.Fatal(err)
	}
	// A broken stream releases what the reassembler held.
	if _, err := r.Write(startFragment(1, 10)); !errors.Is(err, ErrBadFragment) {
		t.Fatalf("restarted object: %v", err)
	}
	if b.held != 0 {
		t.Fatalf("after a fragment error the budget holds %d", b.held)
	}

	r = Reassembler{Budget: b}
	for id := uint64(1); id <= 3; id++ {
		if _, err := r.Write(startFragment(id, 100)); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	r.Close()
	if b.held != 0 || r.Pending() != 0 {
		t.Fatalf("after Close the budget holds %d", b.held)
	}
	if _, err := r.Write(startFragment(7, 100)); !errors.Is(err, ErrClosed) || b.held != 0 {
		t.Fatalf("Write after Close: %v, budget %d", err, b.held)
	}
}
