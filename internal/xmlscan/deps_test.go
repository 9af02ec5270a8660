package xmlscan

import (
	"testing"

	"github.com/psgate/psgate/internal/purity"
)

// TestPure keeps xmlscan as pure as the protocol packages that use it.
func TestPure(t *testing.T) {
	purity.Check(t, "bytes", "unicode/utf8")
}
