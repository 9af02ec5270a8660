package psrp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// PromptForChoice is built as the Windows server sent it in pypsrp's
// test_psrp_pshost_ui_mocked_methods recording ($host.UI.PromptForChoice
// with two choices, default 0), and pypsrp's answer (mr an Int32) reads
// back as the index it picked.
func TestPromptForChoiceAsWindowsSendsIt(t *testing.T) {
	rec := loadRecording(t, "pshost_ui_mocked_methods")
	var real Message
	for _, m := range ofType(rec.server, MsgPipelineHostCall) {
		c, err := ParseHostCall(m.Type, m.Data, clixml.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Method == HostPromptForChoice {
			real = m
		}
	}
	if real.Data == nil {
		t.Fatal("no PromptForChoice in the recording")
	}
	c := PromptForChoice("PromptForChoice caption", "PromptForChoice message", []ChoiceDescription{
		{Label: "Prompt1 label", HelpMessage: "Prompt1 help"},
		{Label: "Prompt2 label", HelpMessage: "Prompt2 help"},
	}, 0)
	c.CallID = 5
	built, err := NewPipelineHostCall(real.RPID, real.PID, c)
	if err != nil {
		t.Fatal(err)
	}
	sameAsServer(t, built, real)

	// The client's view of the call.
	parsed, err := ParseHostCall(MsgPipelineHostCall, real.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	caption, message, choices, def, err := parsed.Choices()
	if err != nil {
		t.Fatal(err)
	}
	if caption != "PromptForChoice caption" || message != "PromptForChoice message" || def != 0 || parsed.CallID != 5 {
		t.Errorf("parsed %q %q default %d ci %d", caption, message, def, parsed.CallID)
	}
	if diff := cmp.Diff(choices, []ChoiceDescription{{"Prompt1 label", "Prompt1 help"}, {"Prompt2 label", "Prompt2 help"}}); diff != "" {
		t.Errorf("choices (-got +want):\n%s", diff)
	}

	// pypsrp's answer to it.
	var answer Message
	for _, m := range ofType(rec.client, MsgPipelineHostResponse) {
		r, err := ParseHostResponse(m.Type, m.Data, clixml.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Method == HostPromptForChoice {
			answer = m
		}
	}
	r, err := ParseHostResponse(MsgPipelineHostResponse, answer.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Choice(); n != 1 || err != nil || r.CallID != 5 {
		t.Errorf("pypsrp's answer: choice %d, %v, ci %d", n, err, r.CallID)
	}
	// The connector's answer decodes as pypsrp's does.
	ours, err := NewPipelineHostResponse(answer.RPID, answer.PID, HostResponse{CallID: 5, Method: HostPromptForChoice, Return: int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decode(t, ours), decode(t, answer), cmpDecoded); diff != "" {
		t.Errorf("response differs from pypsrp's (-ours +pypsrp):\n%s", diff)
	}
}

func TestHostResponseChoiceErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    HostResponse
		want string
	}{
		{"client error", HostResponse{Method: HostPromptForChoice, Error: HostErrorRecord("no console"), ErrorMessage: "no console"},
			"the client's host failed PromptForChoice: no console"},
		{"not a number", HostResponse{Method: HostPromptForChoice, Return: "yes"},
			"the client's host failed PromptForChoice: the answer is a string, not a choice's index"},
		{"nil", HostResponse{Method: HostPromptForChoice}, "the client's host failed PromptForChoice: the answer is Nil, not a choice's index"},
	} {
		_, err := tt.r.Choice()
		var he *HostCallError
		if !errors.As(err, &he) || err.Error() != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// An error response round-trips with its message.
	m, err := NewPipelineHostResponse(GUID{1}, GUID{2}, HostResponse{CallID: 3, Method: HostPromptForChoice, Error: HostErrorRecord("prompt cancelled")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseHostResponse(m.Type, m.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if r.CallID != 3 || r.ErrorMessage != "prompt cancelled" {
		t.Errorf("error response = %+v", r)
	}
	if _, _, _, _, err := (HostCall{Method: HostPromptForChoice, Params: []any{"a", "b", psobject.Version("1"), int32(0)}}).Choices(); err == nil {
		t.Error("choices that are not a list were accepted")
	}
}
