package gateway

// queue is a list of encoded fragments waiting for a Receive, guarded by the
// pool's mutex. A Receive leases what it takes: the fragments leave the
// queue, but come back to its front unless the response carrying them
// reaches the client; until then no other Receive takes from the queue.
type queue struct {
	frags   [][]byte
	bytes   int
	changed chan struct{}
	leased  bool
	gen     int // bumped by reset: a lease of an older generation is void
}

func (q *queue) push(frags [][]byte) {
	for _, f := range frags {
		q.frags = append(q.frags, f)
		q.bytes += len(f)
	}
	q.wake()
}

func (q *queue) wake() {
	if q.changed != nil {
		close(q.changed)
	}
	q.changed = make(chan struct{})
}

func (q *queue) wait() <-chan struct{} {
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	return q.changed
}

// reset empties the queue for a new client and voids any lease.
func (q *queue) reset() {
	q.frags, q.bytes, q.leased = nil, 0, false
	q.gen++
	q.wake()
}

// lease is fragments a Receive took off a queue.
type lease struct {
	frags [][]byte
	gen   int
}

// take removes whole fragments totalling at most limit bytes (always at
// least one), leasing them; it returns them concatenated (a lone fragment
// as it is: neither the caller nor the queue writes to one). The caller
// must end the lease with commit or giveBack.
func (q *queue) take(limit int) ([]byte, lease) {
	n, size := 0, 0
	for n < len(q.frags) && (n == 0 || size+len(q.frags[n]) <= limit) {
		size += len(q.frags[n])
		n++
	}
	var data []byte
	if n == 1 {
		data = q.frags[0]
	} else {
		data = make([]byte, 0, size)
		for _, f := range q.frags[:n] {
			data = append(data, f...)
		}
	}
	l := lease{frags: append([][]byte(nil), q.frags[:n]...), gen: q.gen}
	for i := range n {
		q.bytes -= len(q.frags[i])
		q.frags[i] = nil
	}
	q.frags = q.frags[n:]
	q.leased = true
	q.wake()
	return data, l
}

// commit ends a lease whose response reached the client.
func (q *queue) commit(l lease) {
	if l.gen == q.gen {
		q.leased = false
		q.wake()
	}
}

// giveBack ends a lease whose response did not reach the client: its
// fragments return to the front of the queue, in order.
func (q *queue) giveBack(l lease) {
	if l.gen != q.gen {
		return
	}
	q.frags = append(l.frags, q.frags...)
	for _, f := range l.frags {
		q.bytes += len(f)
	}
	q.leased = false
	q.wake()
}
