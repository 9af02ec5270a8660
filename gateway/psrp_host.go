package gateway

import (
	"context"
	"fmt"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psrp"
)

// psrpHost is the engine's Host of a pipeline whose client announced a
// host with a UI (psrp.HostInfo.HasUI): a prompt goes to the client as a
// PIPELINE_HOST_CALL on the pipeline's output, which its Receive
// long-poll picks up, and waits for the PIPELINE_HOST_RESPONSE of the
// same call id, which arrives through a Send (psrp.HostAnswer), or for the
// pipeline's end: a stop (Ctrl+C, Signal), a terminate, the shell closing
// all cancel ctx. The answer of a prompt nobody waits for is dropped.
type psrpHost struct{ s *psrpSink }

// PromptForChoice implements engine.Host.
func (h psrpHost) PromptForChoice(ctx context.Context, caption, message string, choices []engine.Choice, defaultChoice int) (int, error) {
	s, p := h.s, h.s.p
	cds := make([]psrp.ChoiceDescription, len(choices))
	for i, c := range choices {
		cds[i] = psrp.ChoiceDescription{Label: c.Label, HelpMessage: c.HelpMessage}
	}
	// What Out-Default has written comes before the question.
	s.flushHost()
	answer := make(chan psrp.HostResponse, 1)
	p.mu.Lock()
	call, m, err := p.m.HostCall(s.pipe.pid, s.rpid, psrp.PromptForChoice(caption, message, cds, int32(defaultChoice)))
	if err == nil {
		if s.pipe.prompts == nil {
			s.pipe.prompts = make(map[int64]chan<- psrp.HostResponse)
		}
		s.pipe.prompts[call.CallID] = answer
	}
	p.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("gateway: prompt the client: %w", err)
	}
	defer func() {
		p.mu.Lock()
		delete(s.pipe.prompts, call.CallID)
		p.mu.Unlock()
	}()
	s.send(m, nil)
	select {
	case r := <-answer:
		// The client's error (a *psrp.HostCallError) is what the user
		// reads: it says what failed.
		return r.Choice()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
