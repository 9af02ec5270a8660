package wsman

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps wsman a pure protocol package: standard-library encoding and
// text packages only; no network, files, clock, logging or goroutines.
func TestPure(t *testing.T) {
	purity.Check(t, "bytes", "encoding/base64", "encoding/xml", "errors", "fmt", "io", "math", "sort", "strconv", "strings", "time", "unicode", "unicode/utf16", "unicode/utf8",
		"github.com/psgate/psgate/internal/xmlscan")
}
