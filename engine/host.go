package engine

import (
	"context"
	"strings"

	"github.com/psgate/psgate"
)

// Host is the client's interactive host as a pipeline sees it: the part
// of PowerShell's PSHostUserInterface a command needs to ask the user. A
// client without one (a WinRS shell, pypsrp without a PSHost, psgate run)
// has none: the pipeline runs with a nil Host.
type Host interface {
	// PromptForChoice shows caption and message with the choices and
	// returns the index of the one the user picked, as
	// PSHostUserInterface.PromptForChoice does; defaultChoice is the
	// index Enter picks. It blocks until the user answers, or until ctx
	// ends (the pipeline is stopped, the shell closed): then it returns
	// ctx's error. Another error says the client could not answer.
	PromptForChoice(ctx context.Context, caption, message string, choices []Choice, defaultChoice int) (int, error)
}

// Choice is one choice of a prompt, a
// System.Management.Automation.Host.ChoiceDescription: the label marks
// its hot key with "&".
type Choice struct {
	Label, HelpMessage string
}

type hostKey struct{}

// WithHost returns a context whose pipelines run with host h (the
// client's, when it announced one). Nested pipelines (Invoke-Expression,
// script elements) run with the same host.
func WithHost(ctx context.Context, h Host) context.Context {
	return context.WithValue(ctx, hostKey{}, h)
}

// HostOf returns the host ctx carries, or nil.
func HostOf(ctx context.Context) Host {
	h, _ := ctx.Value(hostKey{}).(Host)
	return h
}

// Host returns the client's interactive host, or nil when the client has
// none.
func (inv *Invocation) Host() Host {
	if inv.stage == nil {
		return nil
	}
	return inv.stage.run.host
}

// The confirmation prompt, in PowerShell's own words: CommandBaseStrings
// InquireCaptionDefault, ShouldProcessWarningFallback ("Are you sure you
// want to perform this action?" and a line break before the operation) and
// the choices MshCommandRuntime.InquireHelper offers for ShouldProcess:
// Yes, Yes to All, No, No to All, default Yes. Suspend is left out as
// PowerShell leaves it out when the host is remote (IsSuspendPromptAllowed
// is false for a ServerRemoteHost).
const (
	confirmCaption = "Confirm"
	confirmQuery   = "Are you sure you want to perform this action?"
)

var confirmChoices = []Choice{
	{Label: "&Yes", HelpMessage: "Continue with only the next step of the operation."},
	{Label: "Yes to &All", HelpMessage: "Continue with all the steps of the operation."},
	{Label: "&No", HelpMessage: "Skip this operation and proceed with the next operation."},
	{Label: "No to A&ll", HelpMessage: "Skip this operation and all subsequent operations."},
}

// The answers, by index in confirmChoices.
const (
	confirmYes = iota
	confirmYesToAll
	confirmNo
	confirmNoToAll
)

// confirmState is what a command's earlier answers decided for the rest of
// its invocation (MshCommandRuntime.lastShouldProcessContinueStatus).
type confirmState uint8

const (
	confirmAsk confirmState = iota
	confirmAllYes
	confirmAllNo
)

// ConfirmMessage is the prompt's message for an operation on a target.
func ConfirmMessage(target, action string) string {
	return confirmQuery + "\n" + `Performing the operation "` + action + `" on target "` + target + `".`
}

// confirm asks the host whether the command may make the change, and
// remembers Yes to All and No to All for the rest of the command's
// invocation. A host that cannot answer fails the pipeline; a stopped
// pipeline answers no.
func (st *stage) confirm(target, action string) bool {
	switch st.confirmed {
	case confirmAllYes:
		return true
	case confirmAllNo:
		return false
	}
	if st.stopped() {
		return false
	}
	h := st.run.host
	if h == nil {
		// prepare refuses -Confirm without a host before anything runs;
		// this keeps any other path from changing anything unasked.
		st.run.fail(confirmNeedsHost(st.cmd.Name))
		return false
	}
	n, err := h.PromptForChoice(st.ctx, confirmCaption, ConfirmMessage(target, action), confirmChoices, confirmYes)
	if err != nil {
		if st.ctx.Err() != nil {
			return false
		}
		st.run.fail(confirmFailed(st.cmd.Name, strings.TrimSuffix(err.Error(), ".")+"."))
		return false
	}
	switch n {
	case confirmYes:
		return true
	case confirmYesToAll:
		st.confirmed = confirmAllYes
		return true
	case confirmNo:
		return false
	case confirmNoToAll:
		st.confirmed = confirmAllNo
		return false
	}
	// PowerShell's InquireHelper stops the command when the host answers
	// -1 (Ctrl+C at the prompt), and fails on any other unknown index.
	detail := "the answer was not one of the choices."
	if n == -1 {
		detail = "the prompt was cancelled."
	}
	st.run.fail(confirmFailed(st.cmd.Name, detail))
	return false
}

// confirmNeedsHost is the terminating error of -Confirm on a client
// without an interactive host.
func confirmNeedsHost(cmd string) *TerminatingError {
	rec := NewErrorRecord(psgate.E(psgate.CodeConfirmNeedsHost, psgate.Args{"command": cmd}), "ConfirmNeedsHost", CategoryInvalidOperation, nil)
	rec.ExceptionType = "System.Management.Automation.Host.HostException"
	rec.Reason = "HostException"
	finishRecord(rec, cmd)
	return &TerminatingError{Record: rec}
}

// confirmFailed is the terminating error of a confirmation the client's
// host could not answer.
func confirmFailed(cmd, detail string) *TerminatingError {
	rec := NewErrorRecord(psgate.E(psgate.CodeConfirmFailed, psgate.Args{"command": cmd, "detail": detail}), "ConfirmFailed", CategoryInvalidOperation, nil)
	rec.ExceptionType = "System.Management.Automation.Host.HostException"
	rec.Reason = "HostException"
	finishRecord(rec, cmd)
	return &TerminatingError{Record: rec}
}
