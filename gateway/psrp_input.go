package gateway

import (
	"context"
	"sync"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psrp"
)

// pipeInput is a pipeline's input stream, fed by PIPELINE_INPUT messages.
type pipeInput struct {
	budget  psrp.Budget // charged for the bytes waiting; may be nil
	mu      sync.Mutex
	items   []any
	sizes   []int // the encoded size of each item
	bytes   int   // the sum of sizes, all of them charged to budget
	limit   int   // the most bytes waiting
	ended   bool
	changed chan struct{}
}

// maxPendingInput bounds the objects waiting for a pipeline to read them.
const maxPendingInput = 100000

// pendingInputFactor bounds the bytes of PIPELINE_INPUT messages waiting
// for a pipeline to read them, as a multiple of MaxOutputBuffer (64 MiB by
// default).
const pendingInputFactor = 16

func newPipeInput(limit int, budget psrp.Budget) *pipeInput {
	return &pipeInput{changed: make(chan struct{}), limit: limit, budget: budget}
}

// push queues v, which arrived in size bytes.
func (in *pipeInput) push(v any, size int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return nil // the pipeline was stopped; its input is dropped
	}
	if len(in.items) >= maxPendingInput || in.bytes+size > in.limit {
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "too much pipeline input is waiting to be processed"})
	}
	if in.budget != nil {
		if err := in.budget.Reserve(size); err != nil {
			return err
		}
	}
	in.items = append(in.items, v)
	in.sizes = append(in.sizes, size)
	in.bytes += size
	close(in.changed)
	in.changed = make(chan struct{})
	return nil
}

// discard ends the input and drops what waits, returning its bytes to
// the budget; the pipeline reads no more.
func (in *pipeInput) discard() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.budget != nil && in.bytes > 0 {
		in.budget.Release(in.bytes)
	}
	clear(in.items)
	in.items, in.sizes, in.bytes = nil, nil, 0
	if !in.ended {
		in.ended = true
		close(in.changed)
		in.changed = make(chan struct{})
	}
}

func (in *pipeInput) end() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.ended {
		in.ended = true
		close(in.changed)
		in.changed = make(chan struct{})
	}
}

// Next implements engine.Input.
func (in *pipeInput) Next(ctx context.Context) (any, bool) {
	for {
		in.mu.Lock()
		if len(in.items) > 0 {
			v := in.items[0]
			in.items[0] = nil
			in.items = in.items[1:]
			in.bytes -= in.sizes[0]
			if in.budget != nil {
				in.budget.Release(in.sizes[0])
			}
			in.sizes = in.sizes[1:]
			in.mu.Unlock()
			return v, true
		}
		if in.ended {
			in.mu.Unlock()
			return nil, false
		}
		ch := in.changed
		in.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false
		}
	}
}
