package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A stream as `go test -json` writes it: one passing package, one with a
// failing test, one with no tests, and a build error line.
const stream = `{"Action":"start","Package":"example.com/psgate/psgate/a"}
{"Action":"run","Package":"example.com/psgate/psgate/a","Test":"TestOne"}
{"Action":"output","Package":"example.com/psgate/psgate/a","Test":"TestOne","Output":"=== RUN   TestOne\n"}
{"Action":"pass","Package":"example.com/psgate/psgate/a","Test":"TestOne","Elapsed":0.01}
{"Action":"run","Package":"example.com/psgate/psgate/a","Test":"TestSkip"}
{"Action":"skip","Package":"example.com/psgate/psgate/a","Test":"TestSkip"}
{"Action":"pass","Package":"example.com/psgate/psgate/a","Elapsed":1.25}
{"Action":"start","Package":"example.com/psgate/psgate/b"}
{"Action":"run","Package":"example.com/psgate/psgate/b","Test":"TestBad"}
{"Action":"output","Package":"example.com/psgate/psgate/b","Test":"TestBad","Output":"    bad_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"example.com/psgate/psgate/b","Test":"TestBad","Elapsed":0}
{"Action":"output","Package":"example.com/psgate/psgate/b","Output":"FAIL\n"}
{"Action":"fail","Package":"example.com/psgate/psgate/b","Elapsed":0.5}
{"Action":"start","Package":"example.com/psgate/psgate/c"}
{"Action":"output","Package":"example.com/psgate/psgate/c","Output":"?   \texample.com/psgate/psgate/c\t[no test files]\n"}
{"Action":"skip","Package":"example.com/psgate/psgate/c","Elapsed":0}
# example.com/psgate/psgate/d
d/d.go:3:1: syntax error
`

func TestReport(t *testing.T) {
	var out strings.Builder
	failed, err := run(context.Background(), strings.NewReader(stream), &out, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("a stream with a failing test was reported as passing")
	}
	got := out.String()
	for _, want := range []string{
		"ok   example.com/psgate/psgate/a (1.3s, 1 test)\n",
		"FAIL example.com/psgate/psgate/b (500ms)\n        bad_test.go:9: got 1, want 2\n",
		"d/d.go:3:1: syntax error\n",
		"failed packages: example.com/psgate/psgate/b\n",
		"tests: 1 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "psgate/c") {
		t.Errorf("a package without tests was reported:\n%s", got)
	}
}

func TestHeartbeatNamesRunningPackages(t *testing.T) {
	var out strings.Builder
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	r := newReport(&out, func() time.Time { return now })
	r.line(`{"Action":"start","Package":"github.com/psgate/psgate/interop"}`)
	r.line(`{"Action":"run","Package":"github.com/psgate/psgate/interop","Test":"TestX"}`)
	r.line(`{"Action":"pass","Package":"github.com/psgate/psgate/interop","Test":"TestX"}`)
	now = now.Add(95 * time.Second)
	r.heartbeat()
	if want := "...  still running: interop 1m35s; 1 test passed so far\n"; out.String() != want {
		t.Errorf("heartbeat = %q, want %q", out.String(), want)
	}
	out.Reset()
	r.line(`{"Action":"pass","Package":"github.com/psgate/psgate/interop","Elapsed":95}`)
	r.heartbeat()
	if strings.Contains(out.String(), "still running") {
		t.Errorf("heartbeat after every package ended: %q", out.String())
	}
}

func TestPassingStreamExitsClean(t *testing.T) {
	var out strings.Builder
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"T"}
{"Action":"pass","Package":"p","Test":"T"}
{"Action":"pass","Package":"p","Elapsed":0.1}
`
	failed, err := run(context.Background(), strings.NewReader(in), &out, time.Hour)
	if err != nil || failed {
		t.Fatalf("failed=%v err=%v; out:\n%s", failed, err, out.String())
	}
	if !strings.HasSuffix(out.String(), "tests: 1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("closing line missing:\n%s", out.String())
	}
}
