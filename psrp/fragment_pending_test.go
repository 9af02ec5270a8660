package psrp

import (
	"errors"
	"testing"
)

// Many messages started and never finished must not hold more than
// MaxPending bytes together, even though each stays under MaxMessageSize.
func TestReassemblerBoundsPendingBytes(t *testing.T) {
	r := Reassembler{MaxPending: 1000}
	var err error
	for id := uint64(1); id <= 5 && err == nil; id++ {
		start := Fragment{ObjectID: id, FragmentID: 0, Start: true, Blob: make([]byte, 300)}
		_, err = r.Write(start.AppendEncode(nil))
	}
	if !errors.Is(err, ErrBadFragment) || !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("four 300-byte partial messages under MaxPending 1000: err = %v, want ErrMessageTooLarge", err)
	}

	// Completed messages release their bytes.
	r = Reassembler{MaxPending: 1000}
	msg := Message{Destination: DestinationServer, Type: MsgPipelineInput, Data: make([]byte, 560)}.Encode()
	for i := range 10 {
		id := uint64(i + 1)
		first := Fragment{ObjectID: id, FragmentID: 0, Start: true, Blob: msg[:300]}
		last := Fragment{ObjectID: id, FragmentID: 1, End: true, Blob: msg[300:]}
		if _, err := r.Write(first.AppendEncode(nil)); err != nil {
			t.Fatalf("message %d start: %v", i, err)
		}
		msgs, err := r.Write(last.AppendEncode(nil))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("message %d end: %v, %d messages", i, err, len(msgs))
		}
	}
}
