package psrp

import (
	"bytes"
	"errors"
	"runtime"
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

// The budget is charged for the memory a partial message really holds:
// large fragments exactly (no doubling growth), and a stream of tiny
// fragments by the chunks they are gathered in, not by their few bytes.
// What the reassembler allocates for the unfinished message stays within
// what it charged; the message comes out whole.
func TestReassemblerChargesWhatItHolds(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fragments int
		size      int
		maxCharge int
	}{
		{"large fragments", 40, 100 << 10, 40 * 100 << 10},
		{"tiny fragments", 5000, 3, 3 + minChunk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBudget{}
			r := Reassembler{Budget: b}
			data := make([]byte, tt.fragments*tt.size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			msg := Message{Destination: DestinationServer, Type: MsgPipelineInput, Data: data}.Encode()
			wire := make([][]byte, tt.fragments)
			for i := range wire {
				lo, hi := i*tt.size, (i+1)*tt.size
				if i == tt.fragments-1 {
					hi = len(msg)
				}
				wire[i] = Fragment{ObjectID: 1, FragmentID: uint64(i), Start: i == 0, End: i == tt.fragments-1, Blob: msg[lo:hi]}.AppendEncode(nil)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i, w := range wire[:len(wire)-1] {
				if _, err := r.Write(w); err != nil {
					t.Fatal(err)
				}
				if held := (i + 1) * tt.size; b.held < held {
					t.Fatalf("after %d bytes the budget holds only %d", held, b.held)
				}
			}
			runtime.ReadMemStats(&after)
			charged := b.held
			if alloc := int(after.TotalAlloc - before.TotalAlloc); alloc > charged+charged/4+16<<10 {
				t.Errorf("the unfinished message allocated %d bytes but was charged %d", alloc, charged)
			}
			got, err := r.Write(wire[len(wire)-1])
			if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, data) {
				t.Fatalf("the message did not come out whole: %v, %d messages", err, len(got))
			}
			if b.peak > tt.maxCharge || b.held != 0 {
				t.Fatalf("peak charge %d for %d message bytes (want at most %d); %d left", b.peak, len(msg), tt.maxCharge, b.held)
			}
		})
	}
}
