package main

import (
	"testing"

	"github.com/psgate/psgate/client"
)

func TestPickAnswersAsTheConsoleHost(t *testing.T) {
	p := client.ChoicePrompt{Default: 0, Choices: []client.Choice{
		{Label: "&Yes"}, {Label: "Yes to &All"}, {Label: "&No"}, {Label: "No to A&ll"}, {Label: "Later"},
	}}
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true}, {"  ", 0, true}, {"y", 0, true}, {"A", 1, true}, {"yes to all", 1, true},
		{"n", 2, true}, {"NO", 2, true}, {"l", 3, true}, {"no to all", 3, true}, {"later", 4, true},
		{"maybe", 0, false}, {"?", 0, false},
	} {
		got, ok := pick(p, tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("pick(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := pick(client.ChoicePrompt{Default: -1, Choices: p.Choices}, ""); ok {
		t.Error("Enter picked something without a default")
	}
	if got := choiceLine(p); got != `[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [] Later  [?] Help (default is "Y"): ` {
		t.Errorf("choice line %q", got)
	}
}
