package psrp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testMessage(n int, b byte) Message {
	return Message{Destination: DestinationServer, Type: MsgPipelineInput, Data: bytes.Repeat([]byte{b}, n)}
}

func TestFragmenter(t *testing.T) {
	f := Fragmenter{MaxBlob: 10}
	frags := f.Fragment(make([]byte, 25))
	if len(frags) != 3 {
		t.Fatalf("got %d fragments, want 3", len(frags))
	}
	for i, fr := range frags {
		if fr.ObjectID != 1 || fr.FragmentID != uint64(i) || fr.Start != (i == 0) || fr.End != (i == 2) {
			t.Errorf("fragment %d = {obj %d, id %d, start %v, end %v}", i, fr.ObjectID, fr.FragmentID, fr.Start, fr.End)
		}
	}
	if got := len(frags[2].Blob); got != 5 {
		t.Errorf("last blob is %d bytes, want 5", got)
	}
	one := f.Fragment(nil)
	if len(one) != 1 || !one[0].Start || !one[0].End || one[0].ObjectID != 2 {
		t.Errorf("empty message fragments = %+v, want one start+end fragment of object 2", one)
	}
	if f.NextObjectID != 3 {
		t.Errorf("NextObjectID = %d, want 3", f.NextObjectID)
	}
	big := Fragmenter{MaxBlob: 1 << 20}
	if got := len(big.Fragment(make([]byte, MaxFragmentBlob+1))); got != 2 {
		t.Errorf("MaxBlob above the spec cap: %d fragments, want 2 (capped at %d)", got, MaxFragmentBlob)
	}
}

func TestFragmentWire(t *testing.T) {
	fr := Fragment{ObjectID: 1, FragmentID: 0, Start: true, End: true, Blob: []byte("abc")}
	got := fr.AppendEncode(nil)
	want := []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 'a', 'b', 'c'}
	if !bytes.Equal(got, want) {
		t.Errorf("AppendEncode = %v, want %v", got, want)
	}
	back, n, err := DecodeFragment(append(got, 0xFF))
	if err != nil || n != len(want) {
		t.Fatalf("DecodeFragment = %d, %v", n, err)
	}
	if diff := cmp.Diff(back, fr); diff != "" {
		t.Errorf("DecodeFragment (-got +want):\n%s", diff)
	}
}

// TestReassembleSizes splits messages at many fragment sizes, concatenates
// several messages in one write and splits the stream across writes at
// fragment boundaries.
func TestReassembleSizes(t *testing.T) {
	msgs := []Message{testMessage(0, 'a'), testMessage(1, 'b'), testMessage(100, 'c'), testMessage(70000, 'd')}
	for _, size := range []int{1, 2, 7, 40, 41, 99, 100, 4096, MaxFragmentBlob} {
		f := Fragmenter{MaxBlob: size, NextObjectID: 7}
		var frags []Fragment
		for _, m := range msgs {
			frags = append(frags, f.Fragment(m.Encode())...)
		}
		var r Reassembler
		var got []Message
		// Write in groups of three fragments.
		for i := 0; i < len(frags); i += 3 {
			var buf []byte
			for _, fr := range frags[i:min(i+3, len(frags))] {
				buf = fr.AppendEncode(buf)
			}
			out, err := r.Write(buf)
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			got = append(got, out...)
		}
		if diff := cmp.Diff(got, msgs, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Errorf("size %d: (-got +want):\n%s", size, diff)
		}
		if r.Pending() != 0 {
			t.Errorf("size %d: %d messages pending", size, r.Pending())
		}
	}
}

// TestReassembleInterleaved checks that fragments of different objects may
// alternate, and messages come out in completion order.
func TestReassembleInterleaved(t *testing.T) {
	f := Fragmenter{MaxBlob: 50}
	a := f.Fragment(testMessage(120, 'a').Encode())
	b := f.Fragment(testMessage(20, 'b').Encode())
	var buf []byte
	buf = a[0].AppendEncode(buf)
	buf = b[0].AppendEncode(buf)
	buf = b[1].AppendEncode(buf)
	buf = a[1].AppendEncode(buf)
	buf = a[2].AppendEncode(buf)
	buf = a[3].AppendEncode(buf)
	var r Reassembler
	got, err := r.Write(buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Data[0] != 'b' || got[1].Data[0] != 'a' || len(got[1].Data) != 120 {
		t.Errorf("got %v, want b then a", got)
	}
}

func rawFragment(obj, id uint64, flags byte, blob []byte) []byte {
	var h [FragmentHeaderSize]byte
	binary.BigEndian.PutUint64(h[0:8], obj)
	binary.BigEndian.PutUint64(h[8:16], id)
	h[16] = flags
	binary.BigEndian.PutUint32(h[17:21], uint32(len(blob)))
	return append(h[:], blob...)
}

func TestReassembleErrors(t *testing.T) {
	whole := testMessage(5, 'x').Encode()
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		in    []byte
		r     Reassembler
		want  string
		large bool
	}{
		{"truncated header", []byte{0, 0, 0}, Reassembler{}, "truncated header", false},
		{"blob overflows", rawFragment(1, 0, 3, whole)[:30], Reassembler{}, "overflows", false},
		{"huge blob length", append(rawFragment(1, 0, 3, nil)[:17], 0xFF, 0xFF, 0xFF, 0xFF), Reassembler{}, "overflows", false},
		{"first fragment without start", rawFragment(1, 1, 0, []byte("a")), Reassembler{}, "without a start", false},
		{"end without start", rawFragment(1, 1, 2, []byte("a")), Reassembler{}, "end fragment 1 of object 1 without its start", false},
		{"start with nonzero id", rawFragment(1, 4, 1, []byte("a")), Reassembler{}, "FragmentId 4, want 0", false},
		{"duplicate start", cat(rawFragment(1, 0, 1, []byte("a")), rawFragment(1, 0, 1, []byte("a"))), Reassembler{}, "started again", false},
		{"out of sequence", cat(rawFragment(1, 0, 1, []byte("a")), rawFragment(1, 2, 2, []byte("a"))), Reassembler{}, "FragmentId 2 out of sequence, want 1", false},
		{"repeated fragment", cat(rawFragment(1, 0, 1, []byte("a")), rawFragment(1, 1, 0, []byte("a")), rawFragment(1, 1, 2, []byte("a"))), Reassembler{}, "out of sequence", false},
		{"too large single", rawFragment(1, 0, 3, make([]byte, 100)), Reassembler{MaxMessageSize: 99}, "exceeds 99 bytes", true},
		{"too large accumulated", cat(rawFragment(1, 0, 1, make([]byte, 60)), rawFragment(1, 1, 2, make([]byte, 60))), Reassembler{MaxMessageSize: 100}, "exceeds 100 bytes", true},
		{"too many partial", cat(rawFragment(1, 0, 1, nil), rawFragment(2, 0, 1, nil), rawFragment(3, 0, 1, nil)), Reassembler{MaxPartial: 2}, "more than 2 messages in progress", false},
		{"message shorter than header", rawFragment(1, 0, 3, []byte("short")), Reassembler{}, "shorter than the 40-byte header", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			_, err := r.Write(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrBadFragment) && !errors.Is(err, ErrBadMessage) {
				t.Errorf("error %v wraps neither ErrBadFragment nor ErrBadMessage", err)
			}
			if errors.Is(err, ErrMessageTooLarge) != tt.large {
				t.Errorf("errors.Is(err, ErrMessageTooLarge) = %v, want %v", !tt.large, tt.large)
			}
			// Poisoned: even valid input now fails with the same error.
			if _, err2 := r.Write(rawFragment(9, 0, 3, whole)); err2 != err {
				t.Errorf("after an error Write returned %v, want the first error %v", err2, err)
			}
			if r.Err() != err {
				t.Errorf("Err() = %v, want %v", r.Err(), err)
			}
		})
	}
}

// TestReassembleIgnoresReservedFlags accepts flag bits PowerShell ignores.
func TestReassembleIgnoresReservedFlags(t *testing.T) {
	var r Reassembler
	got, err := r.Write(rawFragment(1, 0, 0xF3, testMessage(1, 'z').Encode()))
	if err != nil || len(got) != 1 {
		t.Fatalf("Write = %v, %v; want one message", got, err)
	}
}

func TestEncodeFragments(t *testing.T) {
	m := testMessage(30, 'q')
	wire := EncodeFragments(5, m, 16)
	var r Reassembler
	got, err := r.Write(wire)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, m.Data) {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	if obj := binary.BigEndian.Uint64(wire[0:8]); obj != 5 {
		t.Errorf("ObjectId = %d, want 5", obj)
	}
}

func FuzzReassemble(f *testing.F) {
	rec := loadRecording(f, "small_msg_size")
	for _, b := range rec.clientBlobs {
		f.Add(b)
	}
	f.Add(rawFragment(1, 0, 1, []byte("a")))
	f.Add(append(rawFragment(1, 0, 1, make([]byte, 30)), rawFragment(1, 1, 2, make([]byte, 30))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		budget := &countingBudget{limit: 1 << 16}
		r := Reassembler{MaxMessageSize: 1 << 16, MaxPartial: 4, Budget: budget}
		// Whatever happens, the budget holds exactly what the reassembler
		// does, and nothing once it is closed.
		defer func() {
			if budget.held != r.PendingBytes() {
				t.Fatalf("budget holds %d bytes, reassembler %d", budget.held, r.PendingBytes())
			}
			r.Close()
			if budget.held != 0 {
				t.Fatalf("after Close the budget holds %d bytes", budget.held)
			}
		}()
		// Feed in two writes split at a fragment boundary when possible.
		cut := 0
		if _, n, err := DecodeFragment(b); err == nil {
			cut = n
		}
		total := 0
		for _, part := range [][]byte{b[:cut], b[cut:]} {
			msgs, err := r.Write(part)
			if err != nil {
				if r.Err() == nil {
					t.Fatal("error without poisoning")
				}
				return
			}
			for _, m := range msgs {
				total += MessageHeaderSize + len(m.Data)
				again, err := DecodeMessage(m.Encode())
				if err != nil || again.Type != m.Type {
					t.Fatalf("completed message does not re-encode: %v", err)
				}
			}
		}
		if total > len(b) {
			t.Fatalf("reassembled %d bytes out of %d input bytes", total, len(b))
		}
	})
}
