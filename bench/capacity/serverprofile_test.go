package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
)

// A profile is taken over each measured run from the admin listener's
// pprof handler and written under the run's name; an admin URL that
// answers something else is an error, not an empty file.
func TestServerProfiler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	admin := httptest.NewServer(mux)
	defer admin.Close()
	dir := t.TempDir()

	p, err := newServerProfiler(admin.URL, dir, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	end := p.onGateRun(context.Background())(loadgen.OpPSRP, 10, 0)
	end()
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "server-psrp-10-r1.pprof"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile file does not hold a gzipped profile: %.40q", b)
	}

	// Not a pprof endpoint: the run's profile fails, and says where.
	bad, err := newServerProfiler(admin.URL+"/nothing", dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	bad.onGateRun(context.Background())(loadgen.OpWinRS, 1, 2)()
	if err := bad.err(); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("profile from a wrong admin URL: error %v, want one naming HTTP 404", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "server-winrs-1-r3.pprof")); !os.IsNotExist(err) {
		t.Errorf("a failed profile left a file (stat: %v)", err)
	}
}
