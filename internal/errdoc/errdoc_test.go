package errdoc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/psgate/psgate"
)

var update = flag.Bool("update", false, "rewrite docs/errors.md from the catalog")

// TestDocsCurrent fails when docs/errors.md does not match the catalog.
func TestDocsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "errors.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run: go test ./internal/errdoc -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go test ./internal/errdoc -update` and commit it", path)
	}
}

// Retired codes keep their entry, marked retired with the reason.
func TestRetiredCodesDocumented(t *testing.T) {
	md := Markdown()
	for _, e := range psgate.Retired() {
		heading := "### `" + string(e.Code) + "` — " + e.Title + " (retired)\n\n- **Retired:** "
		if !bytes.Contains(md, []byte(heading)) {
			t.Errorf("docs lack the retired entry %s", e.Code)
		}
	}
}
