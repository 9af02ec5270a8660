package psrp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadFragment is wrapped by every reassembly error; the gateway maps it
// to psgate.CodeBadFragment and closes the shell.
var ErrBadFragment = errors.New("psrp: bad fragment")

// ErrMessageTooLarge is wrapped (with ErrBadFragment) when a message grows
// past Reassembler.MaxMessageSize.
var ErrMessageTooLarge = errors.New("psrp: message too large")

// ErrOverBudget is wrapped, together with the Budget's own error, when the
// Budget refuses the bytes of a partly received message. It is not a
// fragment error: the stream was valid, but the server will not hold it.
var ErrOverBudget = errors.New("psrp: partly received messages over budget")

// ErrClosed is returned by a Reassembler after Close.
var ErrClosed = errors.New("psrp: reassembler closed")

// Budget is charged for the bytes a Reassembler holds in partly received
// messages: Reserve before they are buffered, Release when the message
// completes, the Reassembler fails or it is closed. A Budget shared by
// several Reassemblers (a shell's, a user's, the process's) must be safe
// for concurrent use; the Reassembler itself is not.
type Budget interface {
	// Reserve charges n bytes, or refuses them with an error saying
	// which limit they would pass.
	Reserve(n int) error
	// Release returns n bytes charged earlier.
	Release(n int)
}

// Fragment sizes ([MS-PSRP] §2.2.4).
const (
	FragmentHeaderSize = 21
	// MaxFragmentBlob is the largest blob the server sends: the spec's cap
	// and PowerShell's DefaultFragmentSize. Clients may send larger ones.
	MaxFragmentBlob = 32768
	// DefaultMaxMessageSize bounds a reassembled message.
	DefaultMaxMessageSize = 64 << 20
	// DefaultMaxPartial bounds the objects being reassembled at once.
	DefaultMaxPartial = 64
	// DefaultMaxPending bounds the bytes of all partly received messages
	// together.
	DefaultMaxPending = 64 << 20
)

const (
	flagStart = 0x1
	flagEnd   = 0x2
)

// Fragment is one piece of a message on the wire: big-endian ObjectId and
// FragmentId, Start/End flags and the blob.
type Fragment struct {
	ObjectID   uint64
	FragmentID uint64
	Start, End bool
	Blob       []byte
}

// EncodedLen is the wire size of f.
func (f Fragment) EncodedLen() int { return FragmentHeaderSize + len(f.Blob) }

// AppendEncode appends the wire form of f to dst.
func (f Fragment) AppendEncode(dst []byte) []byte {
	var h [FragmentHeaderSize]byte
	binary.BigEndian.PutUint64(h[0:8], f.ObjectID)
	binary.BigEndian.PutUint64(h[8:16], f.FragmentID)
	if f.Start {
		h[16] |= flagStart
	}
	if f.End {
		h[16] |= flagEnd
	}
	binary.BigEndian.PutUint32(h[17:21], uint32(len(f.Blob)))
	dst = append(dst, h[:]...)
	return append(dst, f.Blob...)
}

// DecodeFragment parses the fragment at the start of b and returns it with
// the number of bytes it used. The blob aliases b. Reserved flag bits are
// ignored, as PowerShell does.
func DecodeFragment(b []byte) (Fragment, int, error) {
	if len(b) < FragmentHeaderSize {
		return Fragment{}, 0, fmt.Errorf("%w: truncated header (%d of %d bytes)", ErrBadFragment, len(b), FragmentHeaderSize)
	}
	n := binary.BigEndian.Uint32(b[17:21])
	if uint64(n) > uint64(len(b)-FragmentHeaderSize) {
		return Fragment{}, 0, fmt.Errorf("%w: blob length %d overflows the %d bytes left", ErrBadFragment, n, len(b)-FragmentHeaderSize)
	}
	end := FragmentHeaderSize + int(n)
	return Fragment{
		ObjectID:   binary.BigEndian.Uint64(b[0:8]),
		FragmentID: binary.BigEndian.Uint64(b[8:16]),
		Start:      b[16]&flagStart != 0,
		End:        b[16]&flagEnd != 0,
		Blob:       b[FragmentHeaderSize:end:end],
	}, end, nil
}

// Fragmenter splits encoded messages into fragments. The caller keeps one
// per runspace pool: ObjectIds must be unique within a pool, and all the
// pool's pipelines share the counter.
type Fragmenter struct {
	// MaxBlob is the blob size per fragment; 0 or more than
	// MaxFragmentBlob means MaxFragmentBlob.
	MaxBlob int
	// NextObjectID is the ObjectId of the next message; 0 means 1.
	NextObjectID uint64
}

func (f *Fragmenter) maxBlob() int {
	if f.MaxBlob <= 0 || f.MaxBlob > MaxFragmentBlob {
		return MaxFragmentBlob
	}
	return f.MaxBlob
}

func (f *Fragmenter) objectID() uint64 {
	if f.NextObjectID == 0 {
		f.NextObjectID = 1
	}
	id := f.NextObjectID
	f.NextObjectID++
	return id
}

// Fragment splits one encoded message into fragments whose blobs alias msg.
func (f *Fragmenter) Fragment(msg []byte) []Fragment {
	id := f.objectID()
	size := f.maxBlob()
	frags := make([]Fragment, 0, len(msg)/size+1)
	for i := uint64(0); ; i++ {
		n := min(size, len(msg))
		frags = append(frags, Fragment{ObjectID: id, FragmentID: i, Start: i == 0, End: n == len(msg), Blob: msg[:n]})
		msg = msg[n:]
		if len(msg) == 0 {
			return frags
		}
	}
}

// AppendFragments appends the wire form of all fragments of msg to dst.
func (f *Fragmenter) AppendFragments(dst, msg []byte) []byte {
	for _, fr := range f.Fragment(msg) {
		dst = fr.AppendEncode(dst)
	}
	return dst
}

// EncodeFragments returns the wire form of message m as fragments with the
// given ObjectId, each blob at most maxBlob bytes (0 means MaxFragmentBlob).
func EncodeFragments(objectID uint64, m Message, maxBlob int) []byte {
	f := Fragmenter{MaxBlob: maxBlob, NextObjectID: objectID}
	return f.AppendFragments(nil, m.Encode())
}

// Reassembler rebuilds messages from fragments. Feed it the bytes of each
// creationXml, Arguments or Send stream in order; it returns the messages
// completed so far. After any error it is poisoned and returns that error
// forever: the shell must be closed.
//
// The bytes of partly received messages are charged to Budget, when set,
// and returned to it when the message completes, when the Reassembler
// fails, and on Close: a Reassembler that is no longer fed must be closed.
type Reassembler struct {
	// MaxMessageSize bounds one message; 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// MaxPartial bounds the messages being reassembled at once; 0 means
	// DefaultMaxPartial.
	MaxPartial int
	// MaxPending bounds the bytes held for all partly received messages
	// together; 0 means DefaultMaxPending.
	MaxPending int
	// Budget, when not nil, is charged for the bytes held in partly
	// received messages (a budget shared with other Reassemblers).
	Budget Budget

	partial map[uint64]*partialObject
	pending int // bytes held in partial, all of them charged to Budget
	err     error
}

// partialObject is a message being reassembled. Its first fragment's blob
// is copied into a chunk of its own size, later ones into chunks of at
// least minChunk bytes, and they are joined once, when the message ends;
// the budget is charged for the chunks' full capacity. A
// buffer grown by append would hold up to twice what the budget was
// charged (and leave each outgrown copy to the collector), and a chunk per
// fragment would let tiny fragments cost far more than their bytes: either
// way a client growing one message could make the gateway hold much more
// memory than its budget says.
type partialObject struct {
	next    uint64   // expected FragmentId
	size    int      // message bytes so far
	charged int      // capacity of chunks, charged to the budget
	chunks  [][]byte // the message bytes so far, in order
}

// minChunk is the smallest chunk a partial message's bytes are copied to.
const minChunk = 16 << 10

// cost is how many bytes adding n message bytes allocates.
func (p *partialObject) cost(n int) int {
	k := len(p.chunks)
	switch {
	case n == 0 || k > 0 && cap(p.chunks[k-1])-len(p.chunks[k-1]) >= n:
		return 0
	case k == 0:
		return n
	default:
		return max(n, minChunk)
	}
}

// add appends blob, allocating the chunk cost(len(blob)) said.
func (p *partialObject) add(blob []byte) {
	if len(blob) == 0 {
		return
	}
	if c := p.cost(len(blob)); c > 0 {
		p.chunks = append(p.chunks, make([]byte, 0, c))
		p.charged += c
	}
	last := &p.chunks[len(p.chunks)-1]
	*last = append(*last, blob...)
	p.size += len(blob)
}

// join returns the message's bytes followed by last.
func (p *partialObject) join(last []byte) []byte {
	buf := make([]byte, 0, p.size+len(last))
	for _, c := range p.chunks {
		buf = append(buf, c...)
	}
	return append(buf, last...)
}

// Err returns the error that poisoned r, or nil.
func (r *Reassembler) Err() error { return r.err }

// Pending reports how many messages are partly received.
func (r *Reassembler) Pending() int { return len(r.partial) }

// PendingBytes reports the bytes held for partly received messages (what
// r has charged to its Budget).
func (r *Reassembler) PendingBytes() int { return r.pending }

// Close drops the partly received messages, returns their bytes to the
// Budget and poisons r: later Writes fail with ErrClosed (or the error
// that poisoned r before). Close is idempotent.
func (r *Reassembler) Close() {
	if r.err == nil {
		r.err = ErrClosed
	}
	r.drop()
}

// drop forgets the partly received messages and releases their bytes.
func (r *Reassembler) drop() {
	if r.pending > 0 && r.Budget != nil {
		r.Budget.Release(r.pending)
	}
	r.partial = nil
	r.pending = 0
}

// Write consumes b, which holds zero or more whole fragments, and returns
// the messages it completed, in order.
func (r *Reassembler) Write(b []byte) ([]Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	msgs, err := r.write(b)
	if err != nil {
		r.err = err
		r.drop()
		return nil, err
	}
	return msgs, nil
}

func (r *Reassembler) write(b []byte) ([]Message, error) {
	maxSize := r.MaxMessageSize
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	maxPartial := r.MaxPartial
	if maxPartial <= 0 {
		maxPartial = DefaultMaxPartial
	}
	maxPending := r.MaxPending
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	var msgs []Message
	for len(b) > 0 {
		f, n, err := DecodeFragment(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		p := r.partial[f.ObjectID]
		switch {
		case p == nil && !f.Start:
			if f.End {
				return nil, fmt.Errorf("%w: end fragment %d of object %d without its start", ErrBadFragment, f.FragmentID, f.ObjectID)
			}
			return nil, fmt.Errorf("%w: fragment %d of object %d without a start fragment", ErrBadFragment, f.FragmentID, f.ObjectID)
		case p != nil && f.Start:
			return nil, fmt.Errorf("%w: object %d started again while still being reassembled", ErrBadFragment, f.ObjectID)
		case p == nil && f.FragmentID != 0:
			return nil, fmt.Errorf("%w: start fragment of object %d has FragmentId %d, want 0", ErrBadFragment, f.ObjectID, f.FragmentID)
		case p != nil && f.FragmentID != p.next:
			return nil, fmt.Errorf("%w: object %d: FragmentId %d out of sequence, want %d", ErrBadFragment, f.ObjectID, f.FragmentID, p.next)
		}
		var have int
		if p == nil {
			p = &partialObject{}
		} else {
			have = p.size
		}
		if len(f.Blob) > maxSize-have {
			return nil, fmt.Errorf("%w: %w: object %d exceeds %d bytes", ErrBadFragment, ErrMessageTooLarge, f.ObjectID, maxSize)
		}
		if f.End {
			// The message is complete: its last blob is never held,
			// and what was held goes back to the budget.
			buf := p.join(f.Blob)
			if f.FragmentID > 0 {
				delete(r.partial, f.ObjectID)
				r.release(p.charged)
			}
			m, err := DecodeMessage(buf)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
			continue
		}
		started := f.FragmentID == 0
		if started && len(r.partial) >= maxPartial {
			return nil, fmt.Errorf("%w: more than %d messages in progress", ErrBadFragment, maxPartial)
		}
		cost := p.cost(len(f.Blob))
		if cost > maxPending-r.pending {
			return nil, fmt.Errorf("%w: %w: partly received messages exceed %d bytes together", ErrBadFragment, ErrMessageTooLarge, maxPending)
		}
		if r.Budget != nil && cost > 0 {
			if err := r.Budget.Reserve(cost); err != nil {
				return nil, fmt.Errorf("%w: object %d: %w", ErrOverBudget, f.ObjectID, err)
			}
		}
		r.pending += cost
		if started {
			if r.partial == nil {
				r.partial = make(map[uint64]*partialObject)
			}
			r.partial[f.ObjectID] = p
		}
		p.add(f.Blob)
		p.next++
	}
	return msgs, nil
}

// release returns n bytes of completed messages to the budget.
func (r *Reassembler) release(n int) {
	r.pending -= n
	if n > 0 && r.Budget != nil {
		r.Budget.Release(n)
	}
}
