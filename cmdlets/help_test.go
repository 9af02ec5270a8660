package cmdlets

import (
	"strings"
	"testing"

	"github.com/psgate/psgate/engine"
)

// Every cmdlet carries the help Get-Help shows.
func TestHelp(t *testing.T) {
	for _, c := range commands(newFakeDir(), config{}) {
		t.Run(c.Name, func(t *testing.T) {
			if c.Synopsis == "" || c.Description == "" {
				t.Error("missing synopsis or description")
			}
			if len(c.Examples) == 0 {
				t.Error("no example")
			}
			for _, ex := range c.Examples {
				if !strings.HasPrefix(ex.Code, c.Name) || ex.Remarks == "" {
					t.Errorf("example %q does not start with the command name or has no remarks", ex.Code)
				}
			}
			if len(c.OutputType) == 0 {
				t.Error("no output type")
			}
			positions := map[int]string{}
			for _, p := range c.Parameters {
				if p.Help == "" {
					t.Errorf("parameter %s has no help", p.Name)
				}
				if p.Position == engine.NotPositional {
					continue
				}
				if other, dup := positions[p.Position]; dup {
					t.Errorf("parameters %s and %s share position %d", other, p.Name, p.Position)
				}
				positions[p.Position] = p.Name
			}
		})
	}
}
