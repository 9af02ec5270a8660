package psrp

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps psrp a pure protocol package: standard-library encoding and
// text packages only; no network, files, clock, logging or goroutines.
func TestPure(t *testing.T) {
	purity.Check(t, "bytes", "crypto/aes", "crypto/cipher", "io", "math/big", "path", "slices", "unicode/utf16", "encoding/base64", "encoding/binary", "encoding/hex", "errors", "fmt", "strconv", "strings", "time", "github.com/psgate/psgate/clixml", "github.com/psgate/psgate/internal/recent", "github.com/psgate/psgate/psobject")
}
