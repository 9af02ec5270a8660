package client

import (
	"context"
	"errors"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// Streams of Record.
const (
	StreamError       = "error"
	StreamWarning     = "warning"
	StreamVerbose     = "verbose"
	StreamDebug       = "debug"
	StreamInformation = "information"
)

// Record is one non-output record a command wrote.
type Record struct {
	// Stream is one of the Stream constants.
	Stream string
	// Message is the record's text (for errors, the message PowerShell
	// shows).
	Message string
	// Error is the whole error record, for StreamError.
	Error *psrp.ErrorRecord
	// Data is the MessageData of an information record.
	Data any
}

// RunOptions tune one Run.
type RunOptions struct {
	// Output receives each output object as it arrives: *psobject.Object,
	// a string, a number… When nil, the objects are collected in
	// Result.Output.
	Output func(v any)
	// Record receives error, warning, verbose, debug and information
	// records as they arrive. They are collected in the Result either way.
	Record func(r Record)
	// Input, when non-empty, is sent to the pipeline as its input.
	Input []any
	// Host, when set, answers what the command asks the user: the
	// pipeline announces a host with a user interface, so -Confirm
	// prompts through Host.PromptForChoice. Without one the gateway
	// refuses -Confirm (engine.confirm-needs-host).
	Host Host
}

// Result is what a command produced.
type Result struct {
	// Output holds the output objects when RunOptions.Output was nil.
	Output []any
	// Errors are the non-terminating error records.
	Errors      []*psrp.ErrorRecord
	Warnings    []string
	Verbose     []string
	Debug       []string
	Information []any
	// State is the pipeline's final state.
	State psrp.PipelineState
}

// Err returns the first non-terminating error as a *psgate.Error, or nil.
func (r *Result) Err() error {
	if r == nil || len(r.Errors) == 0 {
		return nil
	}
	return recordError(r.Errors[0], psgate.CodeInvalidOperation)
}

// stopGrace bounds how long a stopped pipeline is drained.
const stopGrace = 10 * time.Second

// Run runs cmd as one pipeline and waits for it to finish. Output streams
// to opts.Output as it arrives. A pipeline that fails returns its
// terminating error, with the Result of what it wrote before. When ctx
// ends, the pipeline is stopped (Ctrl+C) and Run returns
// engine.pipeline-stopped.
func (s *Session) Run(ctx context.Context, cmd Command, opts RunOptions) (*Result, error) {
	res, _, err := s.run(ctx, cmd, opts)
	return res, err
}

// run is Run, also reporting whether the server may have started the
// pipeline (false only when it certainly did not).
func (s *Session) run(ctx context.Context, cmd Command, opts RunOptions) (*Result, bool, error) {
	res := &Result{}
	if s.closed.Load() {
		return res, false, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": s.shellID})
	}
	pid, err := newGUID()
	if err != nil {
		return res, false, err
	}
	start := s.pool.Pipeline
	if opts.Host != nil {
		start = s.pool.PipelineWithHost
	}
	s.mu.Lock()
	pipe, msgs, err := start(pid, psrp.CreatePipeline{ApartmentState: 2, PowerShell: cmd.pipeline()}, opts.Input)
	s.mu.Unlock()
	var ie *psrp.InputError
	switch {
	case errors.As(err, &ie):
		return res, false, psgate.Wrap(psgate.CodeInvalidParameter, psgate.Args{"detail": "pipeline input cannot be serialized: " + ie.Err.Error()}, ie.Err)
	case err != nil:
		return res, false, psgate.Wrap(psgate.CodeInvalidParameter, psgate.Args{"detail": "the command's arguments cannot be serialized: " + err.Error()}, err)
	}
	chunks := s.chunks(msgs)

	req, err := s.c.newRequest(s.resourceURI, s.shellID)
	if err != nil {
		return res, false, err
	}
	resp, err := s.c.do(ctx, wsman.EncodeCommandRequest(req, pid.String(), "", chunks[0]))
	if err != nil {
		// After a lost connection the server may have started it.
		return res, connectionLost(err), err
	}
	cid := resp.CommandID
	if cid == "" {
		cid = pid.String()
	}
	if s.afterCommand != nil {
		s.afterCommand()
	}
	for _, chunk := range chunks[1:] {
		req, err := s.c.newRequest(s.resourceURI, s.shellID)
		if err != nil {
			return res, true, err
		}
		if _, err := s.c.do(ctx, wsman.EncodeSendRequest(req, wsman.Stream{Name: "stdin", CommandID: cid, Data: chunk})); err != nil {
			return res, true, err
		}
	}
	var in psrp.Reassembler
	for {
		resp, err := s.receive(ctx, cid)
		if err != nil {
			if ctx.Err() != nil {
				return res, true, s.stop(ctx, cid, pipe, res, opts)
			}
			return res, true, err
		}
		done, ferr, err := s.consume(ctx, cid, true, &in, pipe, resp, res, opts)
		if err != nil {
			if ctx.Err() != nil {
				// Stopped at a prompt.
				return res, true, s.stop(ctx, cid, pipe, res, opts)
			}
			return res, true, err
		}
		if done || commandDone(resp) {
			return res, true, ferr
		}
	}
}

// maxRequestPayload bounds the fragment bytes of one request, so that the
// base64-encoded envelope stays under WinRM's default 500 KB.
const maxRequestPayload = 300 << 10

// chunks fragments msgs and groups whole fragments into request payloads
// of at most maxRequestPayload bytes: the first goes with the Command, the
// others in Sends.
func (s *Session) chunks(msgs []psrp.Message) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		out [][]byte
		cur []byte
	)
	for _, m := range msgs {
		for _, f := range s.frag.Fragment(m.Encode()) {
			if len(cur) > 0 && len(cur)+f.EncodedLen() > maxRequestPayload {
				out = append(out, cur)
				cur = nil
			}
			cur = f.AppendEncode(cur)
		}
	}
	return append(out, cur)
}

// commandDone reports whether a Receive response ends the command.
func commandDone(resp *wsman.Response) bool {
	return resp.State != nil && (resp.State.State == wsman.StateDone || resp.State.State == "Done")
}

// stop sends Ctrl+C for the command and drains it until it ends.
func (s *Session) stop(ctx context.Context, cid string, pipe *psrp.ClientPipeline, res *Result, opts RunOptions) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
	defer cancel()
	stopped := psgate.Wrap(psgate.CodePipelineStopped, nil, ctx.Err())
	req, err := s.c.newRequest(s.resourceURI, s.shellID)
	if err != nil {
		return stopped
	}
	if _, err := s.c.do(sctx, wsman.EncodeSignalRequest(req, cid, wsman.PSSignalCrtlC)); err != nil {
		return stopped
	}
	// Fragments of an interrupted Receive may be lost: read leniently.
	var in psrp.Reassembler
	for {
		resp, err := s.receive(sctx, cid)
		if err != nil {
			return stopped
		}
		done, _, _ := s.consume(sctx, cid, false, &in, pipe, resp, res, opts)
		if done || commandDone(resp) {
			res.State = psrp.PipelineStopped
			return stopped
		}
	}
}

// consume handles the PSRP messages of one Receive response. done is set
// by the final PIPELINE_STATE, whose error (a failed or stopped pipeline)
// is final; nothing after it is read. A host call that needs an answer is
// answered (see answer) when answering is set; a stopping pipeline's
// drain answers nothing.
func (s *Session) consume(ctx context.Context, cid string, answering bool, in *psrp.Reassembler, pipe *psrp.ClientPipeline, resp *wsman.Response, res *Result, opts RunOptions) (done bool, final, err error) {
	for _, st := range resp.Streams {
		msgs, werr := in.Write(st.Data)
		if werr != nil {
			return false, nil, psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": werr.Error()}, werr)
		}
		for _, m := range msgs {
			ev, err := pipe.Receive(m)
			if err != nil {
				return false, nil, psgate.Wrap(psgate.CodeBadMessage, psgate.Args{"detail": err.Error()}, err)
			}
			if c := ev.HostCall; c != nil && c.CallID != psrp.VoidCallID && answering {
				if err := s.answer(ctx, cid, pipe.PID(), *c, opts.Host); err != nil {
					return false, nil, err
				}
			}
			if f := s.event(ev, res, opts); pipe.Done() {
				return true, f, nil
			}
		}
	}
	return false, nil, nil
}

// event records one pipeline event in res; for the final PIPELINE_STATE
// it returns the pipeline's error (nil when it completed).
func (s *Session) event(ev psrp.PipelineEvent, res *Result, opts RunOptions) error {
	record := func(r Record) {
		if opts.Record != nil {
			opts.Record(r)
		}
	}
	switch ev.Type {
	case psrp.MsgPipelineOutput:
		if opts.Output != nil {
			opts.Output(ev.Output)
		} else {
			res.Output = append(res.Output, ev.Output)
		}
	case psrp.MsgErrorRecord:
		rec := ev.Record
		res.Errors = append(res.Errors, rec)
		msg := rec.Message
		if rec.DetailsMessage != "" {
			msg = rec.DetailsMessage
		}
		record(Record{Stream: StreamError, Message: msg, Error: rec})
	case psrp.MsgWarningRecord:
		res.Warnings = append(res.Warnings, ev.Text)
		record(Record{Stream: StreamWarning, Message: ev.Text})
	case psrp.MsgVerboseRecord:
		res.Verbose = append(res.Verbose, ev.Text)
		record(Record{Stream: StreamVerbose, Message: ev.Text})
	case psrp.MsgDebugRecord:
		res.Debug = append(res.Debug, ev.Text)
		record(Record{Stream: StreamDebug, Message: ev.Text})
	case psrp.MsgInformationRecord:
		res.Information = append(res.Information, ev.Information)
		record(Record{Stream: StreamInformation, Message: textOf(ev.Information), Data: ev.Information})
	case psrp.MsgPipelineState:
		res.State = ev.State
		switch ev.State {
		case psrp.PipelineStopped:
			return psgate.E(psgate.CodePipelineStopped, nil)
		case psrp.PipelineFailed:
			return recordError(ev.Record, psgate.CodeInvalidOperation)
		}
	}
	return nil
}

// textOf renders an information record's data.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case interface{ String() string }:
		return x.String()
	}
	return ""
}
