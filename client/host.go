package client

import (
	"context"
	"fmt"

	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// Host answers the questions a command asks its user through the
// client's host. The gateway asks one: -Confirm's PowerShell confirmation
// prompt ("Are you sure you want to perform this action?").
type Host interface {
	// PromptForChoice shows the prompt and returns the index of the
	// choice the user picked. It returns ctx's error when ctx ends (the
	// command is being stopped); any other error is sent to the gateway
	// as the host's failure, which fails the command.
	PromptForChoice(ctx context.Context, p ChoicePrompt) (int, error)
}

// ChoicePrompt is a PromptForChoice host call.
type ChoicePrompt struct {
	Caption, Message string
	Choices          []Choice
	// Default is the index of the choice Enter picks; -1 for none.
	Default int
}

// Choice is one choice of a prompt; Label marks its hot key with "&".
type Choice struct {
	Label, HelpMessage string
}

// answer answers a host call of pipeline pid that needs an answer with a
// PIPELINE_HOST_RESPONSE on the command's "pr" stream, as Windows
// PowerShell's client does: PromptForChoice through h, any other method
// (and any prompt without h) with the host's error, which fails the
// command on the gateway. It returns ctx's error when the prompt ended
// because ctx did: the caller stops the pipeline.
func (s *Session) answer(ctx context.Context, cid string, pid psrp.GUID, c psrp.HostCall, h Host) error {
	r := psrp.HostResponse{CallID: c.CallID, Method: c.Method}
	if c.Method != psrp.HostPromptForChoice || h == nil {
		r.Error = psrp.HostErrorRecord(fmt.Sprintf("The host does not implement %s.", c.Method))
	} else if caption, message, choices, def, err := c.Choices(); err != nil {
		r.Error = psrp.HostErrorRecord(err.Error())
	} else {
		p := ChoicePrompt{Caption: caption, Message: message, Default: def}
		for _, ch := range choices {
			p.Choices = append(p.Choices, Choice{Label: ch.Label, HelpMessage: ch.HelpMessage})
		}
		n, err := h.PromptForChoice(ctx, p)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			r.Error = psrp.HostErrorRecord(err.Error())
		default:
			r.Return = int32(n)
		}
	}
	m, err := psrp.NewPipelineHostResponse(s.pool.RPID(), pid, r)
	if err != nil {
		return fmt.Errorf("client: answer %s: %w", c.Method, err)
	}
	for _, chunk := range s.chunks([]psrp.Message{m}) {
		req, err := s.c.newRequest(s.resourceURI, s.shellID)
		if err != nil {
			return err
		}
		if _, err := s.c.do(ctx, wsman.EncodeSendRequest(req, wsman.Stream{Name: "pr", CommandID: cid, Data: chunk})); err != nil {
			return err
		}
	}
	return nil
}
