package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// answeringHost answers prompts from a list and records them.
type answeringHost struct {
	answers []int
	err     error
	prompts []ChoicePrompt
}

func (h *answeringHost) PromptForChoice(ctx context.Context, p ChoicePrompt) (int, error) {
	h.prompts = append(h.prompts, p)
	if h.err != nil {
		return 0, h.err
	}
	n := h.answers[0]
	h.answers = h.answers[1:]
	return n, nil
}

// title reads a demo user's Title.
func title(t *testing.T, s *Session, upn string) string {
	t.Helper()
	res, err := s.Run(testCtx(t), Script("Get-CsOnlineUser "+upn), RunOptions{})
	if err != nil || len(res.Output) != 1 {
		t.Fatalf("Get-CsOnlineUser %s: %v, %v", upn, res, err)
	}
	v, _ := res.Output[0].(*psobject.Object).Get("Title")
	s2, _ := v.(string)
	return s2
}

func TestConfirmThroughTheConnectorsHost(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	const upn = "alice@contoso.test"
	before := title(t, s, upn)

	// No: nothing changes.
	h := &answeringHost{answers: []int{2}}
	if _, err := s.Run(testCtx(t), Script("Set-CsUser -Identity "+upn+" -Title Confirmed -Confirm"), RunOptions{Host: h}); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s, upn); got != before {
		t.Errorf("after No: Title %q, want %q", got, before)
	}
	if len(h.prompts) != 1 {
		t.Fatalf("%d prompts", len(h.prompts))
	}
	p := h.prompts[0]
	if p.Caption != "Confirm" || p.Default != 0 || len(p.Choices) != 4 || p.Choices[1].Label != "Yes to &All" ||
		p.Message != "Are you sure you want to perform this action?\nPerforming the operation \"Set-CsUser\" on target \""+upn+"\"." {
		t.Errorf("prompt %+v", p)
	}

	// Yes: it changes.
	h = &answeringHost{answers: []int{0}}
	if _, err := s.Run(testCtx(t), Script("Set-CsUser -Identity "+upn+" -Title Confirmed -Confirm"), RunOptions{Host: h}); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s, upn); got != "Confirmed" {
		t.Errorf("after Yes: Title %q", got)
	}

	// A host that fails: the command fails with the catalog's error.
	h = &answeringHost{err: errors.New("no terminal")}
	// A script's statement reports its terminating error and the script
	// completes, as in PowerShell.
	res, err := s.Run(testCtx(t), Script("Set-CsUser -Identity "+upn+" -Title Other -Confirm"), RunOptions{Host: h})
	if err == nil {
		err = res.Err()
	}
	if psgate.CodeOf(err) != psgate.CodeConfirmFailed {
		t.Errorf("failing host: %v, want %s", err, psgate.CodeConfirmFailed)
	}

	// Without a host (psgate run): refused before it runs.
	res, err = s.Run(testCtx(t), Script("Set-CsUser -Identity "+upn+" -Title Other -Confirm"), RunOptions{})
	if err == nil {
		err = res.Err()
	}
	if psgate.CodeOf(err) != psgate.CodeConfirmNeedsHost {
		t.Errorf("no host: %v, want %s", err, psgate.CodeConfirmNeedsHost)
	}
	if got := title(t, s, upn); got != "Confirmed" {
		t.Errorf("Title %q after the refusals", got)
	}
}

// blockingHost waits at the prompt until the command is stopped.
type blockingHost struct{ asked chan struct{} }

func (h *blockingHost) PromptForChoice(ctx context.Context, _ ChoicePrompt) (int, error) {
	close(h.asked)
	<-ctx.Done()
	return 0, ctx.Err()
}

// Ctrl+C at the prompt stops the pipeline on the gateway, which waited
// for the answer; the session goes on.
func TestStopAtThePrompt(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	h := &blockingHost{asked: make(chan struct{})}
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-h.asked
		cancel()
	}()
	_, err := s.Run(ctx, Script("Set-CsUser -Identity alice@contoso.test -Title Stopped -Confirm"), RunOptions{Host: h})
	if psgate.CodeOf(err) != psgate.CodePipelineStopped {
		t.Fatalf("error = %v, want %s", err, psgate.CodePipelineStopped)
	}
	if got := title(t, s, "alice@contoso.test"); got == "Stopped" {
		t.Error("the change was made")
	}
	if n := ts.Gateway().ShellCount(); n != 1 {
		t.Errorf("%d shells", n)
	}
}

// The shell closing while a prompt waits ends the gateway's pipeline: the
// gateway settles (no command left running) though the client never
// answered.
func TestShellCloseEndsThePrompt(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	h := &blockingHost{asked: make(chan struct{})}
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, Script("Set-CsUser -Identity alice@contoso.test -Title Closed -Confirm"), RunOptions{Host: h})
		done <- err
	}()
	<-h.asked
	ts.closeAll(t, psgate.CloseIdle)
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := ts.Gateway().Shutdown(sctx); err != nil {
		t.Errorf("the gateway did not settle with a prompt pending on a closed shell: %v", err)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("Run on a closed shell succeeded")
	}
}
