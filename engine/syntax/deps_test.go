package syntax

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps syntax the language alone: standard-library text
// packages only; no runtime, network, files, clock or goroutines.
func TestPure(t *testing.T) {
	purity.Check(t, "fmt", "math", "regexp", "sort", "strconv", "strings", "unicode", "unicode/utf8")
}
