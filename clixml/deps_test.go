package clixml

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps clixml a pure protocol package: standard-library encoding and
// text packages only; no network, files, clock, logging or goroutines.
func TestPure(t *testing.T) {
	purity.Check(t, "bytes", "encoding/base64", "encoding/xml", "errors", "fmt", "io", "math", "net/url", "strconv", "strings", "time", "unicode/utf16", "unicode/utf8",
		"github.com/psgate/psgate/internal/xmlscan", "github.com/psgate/psgate/psobject")
}
