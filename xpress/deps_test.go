package xpress

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps xpress a pure protocol package: standard-library encoding and
// text packages only; no network, files, clock, logging or goroutines.
func TestPure(t *testing.T) {
	purity.Check(t, "cmp", "encoding/binary", "errors", "fmt", "math", "math/bits", "slices")
}
