package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
)

// scriptedHost answers prompts from a list, recording what it was asked.
type scriptedHost struct {
	answers []int
	err     error
	asked   []string
	caption string
	choices []engine.Choice
	def     int
}

func (h *scriptedHost) PromptForChoice(ctx context.Context, caption, message string, choices []engine.Choice, def int) (int, error) {
	h.asked = append(h.asked, message)
	h.caption, h.choices, h.def = caption, choices, def
	if h.err != nil {
		return 0, h.err
	}
	if len(h.answers) == 0 {
		return 0, errors.New("test host: no answer left")
	}
	n := h.answers[0]
	h.answers = h.answers[1:]
	return n, nil
}

// runWithHost runs script with h as the client's host (nil: none).
func (env *fakeEnv) runWithHost(t *testing.T, h engine.Host, script string) (*recorder, error) {
	t.Helper()
	ctx := context.Background()
	if h != nil {
		ctx = engine.WithHost(ctx, h)
	}
	rec := &recorder{}
	err := env.runspace(engine.RunspaceConfig{}).RunScript(ctx, script, nil, rec)
	return rec, err
}

// threeUsers pipes alice, bob and carol into one Set-CsUser -Confirm.
const threeUsers = "Get-CsOnlineUser | Select-Object -First 3 | Set-CsUser -Department Legal -Confirm"

func TestConfirmPromptsWithPowerShellsPrompt(t *testing.T) {
	env := newFakeEnv(t)
	h := &scriptedHost{answers: []int{0}}
	if _, err := env.runWithHost(t, h, "Set-CsUser bob -Department Ops -Confirm"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(env.Changes, []string{"bob dept=Ops enabled=<nil>"}); diff != "" {
		t.Errorf("changes (-got +want):\n%s", diff)
	}
	want := "Are you sure you want to perform this action?\nPerforming the operation \"Set-CsUser\" on target \"bob\"."
	if len(h.asked) != 1 || h.asked[0] != want || h.caption != "Confirm" || h.def != 0 {
		t.Errorf("asked %q (caption %q, default %d), want %q", h.asked, h.caption, h.def, want)
	}
	wantChoices := []engine.Choice{
		{Label: "&Yes", HelpMessage: "Continue with only the next step of the operation."},
		{Label: "Yes to &All", HelpMessage: "Continue with all the steps of the operation."},
		{Label: "&No", HelpMessage: "Skip this operation and proceed with the next operation."},
		{Label: "No to A&ll", HelpMessage: "Skip this operation and all subsequent operations."},
	}
	if diff := cmp.Diff(h.choices, wantChoices); diff != "" {
		t.Errorf("choices (-got +want):\n%s", diff)
	}
}

func TestConfirmAnswers(t *testing.T) {
	users := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, n+" dept=Legal enabled=<nil>")
		}
		return out
	}
	tests := []struct {
		name    string
		answers []int
		asked   int
		changes []string
	}{
		// Yes, No, Yes: one question per pipeline object.
		{"yes and no per object", []int{0, 2, 0}, 3, users("alice@contoso.test", "carol@contoso.test")},
		{"yes to all", []int{1}, 1, users("alice@contoso.test", "bob@contoso.test", "carol@contoso.test")},
		{"no then yes to all", []int{2, 1}, 2, users("bob@contoso.test", "carol@contoso.test")},
		{"no to all", []int{3}, 1, nil},
		{"yes then no to all", []int{0, 3}, 2, users("alice@contoso.test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv(t)
			h := &scriptedHost{answers: tt.answers}
			rec, err := env.runWithHost(t, h, threeUsers)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.asked) != tt.asked {
				t.Errorf("asked %d times, want %d: %q", len(h.asked), tt.asked, h.asked)
			}
			if diff := cmp.Diff(env.Changes, tt.changes); diff != "" {
				t.Errorf("changes (-got +want):\n%s", diff)
			}
			if len(rec.errors) != 0 {
				t.Errorf("errors: %v", rec.errorMessages())
			}
		})
	}
}

// Yes to All holds for one command's invocation only: the next statement
// asks again.
func TestConfirmYesToAllEndsWithTheCommand(t *testing.T) {
	env := newFakeEnv(t)
	h := &scriptedHost{answers: []int{1, 2}}
	if _, err := env.runWithHost(t, h, "Set-CsUser bob -Department A -Confirm; Set-CsUser dan -Department B -Confirm"); err != nil {
		t.Fatal(err)
	}
	if len(h.asked) != 2 {
		t.Errorf("asked %d times, want 2", len(h.asked))
	}
	if diff := cmp.Diff(env.Changes, []string{"bob dept=A enabled=<nil>"}); diff != "" {
		t.Errorf("changes (-got +want):\n%s", diff)
	}
}

func TestConfirmWithoutHostIsRefusedBeforeRunning(t *testing.T) {
	env := newFakeEnv(t)
	for _, script := range []string{
		"Set-CsUser bob -Department Ops -Confirm",
		"Set-CsUser bob -Department Ops -Confirm:$true",
		threeUsers,
	} {
		env.Changes = nil
		_, err := env.runWithHost(t, nil, script)
		if codeOf(err) != psgate.CodeConfirmNeedsHost {
			t.Fatalf("%s: err = %v, want %s", script, err, psgate.CodeConfirmNeedsHost)
		}
		var te *engine.TerminatingError
		if !errors.As(err, &te) || te.Record.FullyQualifiedErrorID != "ConfirmNeedsHost,Set-CsUser" {
			t.Errorf("%s: record %+v", script, te)
		}
		if e, _ := psgate.AsError(err); e == nil || e.Resolution == "" {
			t.Errorf("%s: no resolution in %v", script, err)
		}
		if len(env.Changes) != 0 || env.Produced.Load() != 0 {
			t.Errorf("%s: changed %v before the refusal", script, env.Changes)
		}
	}
}

func TestConfirmFalseAndWhatIfNeverPrompt(t *testing.T) {
	for _, h := range []*scriptedHost{nil, {err: errors.New("must not be asked")}} {
		env := newFakeEnv(t)
		var host engine.Host
		if h != nil {
			host = h
		}
		rec, err := env.runWithHost(t, host, "Set-CsUser bob -Department A -Confirm:$false; Set-CsUser dan -Department B -WhatIf -Confirm")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(env.Changes, []string{"bob dept=A enabled=<nil>"}); diff != "" {
			t.Errorf("changes (-got +want):\n%s", diff)
		}
		if len(rec.info) != 1 || rec.info[0].MessageData != `What if: Performing the operation "Set-CsUser" on target "dan".` {
			t.Errorf("what-if output: %+v", rec.info)
		}
		if h != nil && len(h.asked) != 0 {
			t.Errorf("asked %q", h.asked)
		}
	}
}

func TestConfirmHostFailure(t *testing.T) {
	env := newFakeEnv(t)
	h := &scriptedHost{err: errors.New("the console is gone")}
	_, err := env.runWithHost(t, h, threeUsers)
	if codeOf(err) != psgate.CodeConfirmFailed {
		t.Fatalf("err = %v, want %s", err, psgate.CodeConfirmFailed)
	}
	if len(h.asked) != 1 || len(env.Changes) != 0 {
		t.Errorf("asked %d times, changes %v", len(h.asked), env.Changes)
	}
	// An answer that is not a choice (a client's -1 for Ctrl+C) stops the
	// command too.
	env.Changes = nil
	_, err = env.runWithHost(t, &scriptedHost{answers: []int{0, -1}}, threeUsers)
	if codeOf(err) != psgate.CodeConfirmFailed || len(env.Changes) != 1 {
		t.Errorf("err = %v, changes %v", err, env.Changes)
	}
}

// blockingHost never answers: only the pipeline's stop ends the prompt.
type blockingHost struct{ asked chan struct{} }

func (h *blockingHost) PromptForChoice(ctx context.Context, _, _ string, _ []engine.Choice, _ int) (int, error) {
	close(h.asked)
	<-ctx.Done()
	return 0, ctx.Err()
}

func TestConfirmPromptEndsWhenThePipelineStops(t *testing.T) {
	env := newFakeEnv(t)
	h := &blockingHost{asked: make(chan struct{})}
	ctx, cancel := context.WithCancel(engine.WithHost(context.Background(), h))
	done := make(chan error, 1)
	go func() {
		done <- env.runspace(engine.RunspaceConfig{}).RunScript(ctx, threeUsers, nil, &recorder{})
	}()
	<-h.asked
	cancel()
	if err := <-done; codeOf(err) != psgate.CodePipelineStopped {
		t.Errorf("err = %v, want %s", err, psgate.CodePipelineStopped)
	}
	if len(env.Changes) != 0 {
		t.Errorf("changes %v", env.Changes)
	}
}
