package dist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClusterDocShowsTheTestedHAProxyConfig: docs/cluster.md shows the
// HAProxy configuration the cluster tests run (dist/haproxy/psgate.cfg,
// without its comment block), so the documented set-up is the tested one.
func TestClusterDocShowsTheTestedHAProxyConfig(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join("haproxy", "psgate.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(cfg), "\n") {
		if !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "cluster.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```haproxy\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n   ```")
	}
	if !ok {
		t.Fatal("docs/cluster.md has no ```haproxy block")
	}
	var got []string
	for _, l := range strings.Split(block, "\n") {
		got = append(got, strings.TrimPrefix(l, "   "))
	}
	if g, w := strings.TrimSpace(strings.Join(got, "\n")), strings.TrimSpace(strings.Join(want, "\n")); g != w {
		t.Errorf("docs/cluster.md's HAProxy configuration differs from dist/haproxy/psgate.cfg:\n--- docs\n%s\n--- dist\n%s", g, w)
	}
}
