package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// event is one record of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string
	FailedBuild string
}

type pkgState struct {
	start         time.Time
	passed        int
	output        strings.Builder             // package-level output (not inside a test)
	tests         map[string]*strings.Builder // output of tests still running
	failedOutputs []string
}

// report accumulates events and prints as packages finish.
type report struct {
	w                        io.Writer
	now                      func() time.Time
	running                  map[string]*pkgState
	buildOutput              map[string]*strings.Builder
	passed, failedN, skipped int
	pkgFailed                []string
}

func newReport(w io.Writer, now func() time.Time) *report {
	return &report{w: w, now: now, running: map[string]*pkgState{}, buildOutput: map[string]*strings.Builder{}}
}

func (r *report) failed() bool { return r.failedN > 0 || len(r.pkgFailed) > 0 }

func (r *report) pkg(name string) *pkgState {
	p := r.running[name]
	if p == nil {
		p = &pkgState{start: r.now(), tests: map[string]*strings.Builder{}}
		r.running[name] = p
	}
	return p
}

// line handles one input line and reports whether it printed anything.
func (r *report) line(s string) bool {
	var e event
	if !strings.HasPrefix(s, "{") || json.Unmarshal([]byte(s), &e) != nil {
		fmt.Fprintln(r.w, s)
		return true
	}
	switch e.Action {
	case "build-output":
		b := r.buildOutput[e.ImportPath]
		if b == nil {
			b = &strings.Builder{}
			r.buildOutput[e.ImportPath] = b
		}
		b.WriteString(e.Output)
	case "build-fail":
		fmt.Fprintf(r.w, "FAIL build %s\n%s", e.ImportPath, r.buildOutput[e.ImportPath])
		return true
	case "start":
		r.pkg(e.Package)
	case "run":
		r.pkg(e.Package).tests[e.Test] = &strings.Builder{}
	case "output":
		p := r.pkg(e.Package)
		if e.Test == "" {
			p.output.WriteString(e.Output)
		} else if b := p.tests[e.Test]; b != nil {
			b.WriteString(e.Output)
		}
	case "pass", "fail", "skip":
		if e.Test != "" {
			r.testDone(r.pkg(e.Package), e)
			return false
		}
		return r.pkgDone(e)
	}
	return false
}

func (r *report) testDone(p *pkgState, e event) {
	out := p.tests[e.Test]
	delete(p.tests, e.Test)
	switch e.Action {
	case "pass":
		r.passed++
		p.passed++
	case "skip":
		r.skipped++
	case "fail":
		r.failedN++
		if out != nil {
			p.failedOutputs = append(p.failedOutputs, out.String())
		}
	}
}

func (r *report) pkgDone(e event) bool {
	p := r.pkg(e.Package)
	delete(r.running, e.Package)
	elapsed := time.Duration(e.Elapsed * float64(time.Second)).Round(100 * time.Millisecond)
	switch {
	case e.Action == "fail":
		r.pkgFailed = append(r.pkgFailed, e.Package)
		fmt.Fprintf(r.w, "FAIL %s (%s)\n", e.Package, elapsed)
		for _, o := range p.failedOutputs {
			io.WriteString(r.w, indent(o))
		}
		if len(p.failedOutputs) == 0 || e.FailedBuild != "" {
			io.WriteString(r.w, indent(p.output.String()))
		}
	case strings.Contains(p.output.String(), "[no test files]"):
		return false
	default:
		fmt.Fprintf(r.w, "ok   %s (%s, %s)\n", e.Package, elapsed, plural(p.passed, "test"))
	}
	return true
}

// heartbeat names the packages still running and for how long.
func (r *report) heartbeat() {
	if len(r.running) == 0 {
		return
	}
	names := make([]string, 0, len(r.running))
	for n := range r.running {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return r.running[names[i]].start.Before(r.running[names[j]].start) })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", short(n), r.now().Sub(r.running[n].start).Round(time.Second)))
	}
	fmt.Fprintf(r.w, "...  still running: %s; %s passed so far\n", strings.Join(parts, ", "), plural(r.passed, "test"))
}

func (r *report) finish() {
	if len(r.pkgFailed) > 0 {
		fmt.Fprintf(r.w, "failed packages: %s\n", strings.Join(r.pkgFailed, " "))
	}
	fmt.Fprintf(r.w, "tests: %d passed, %d failed, %d skipped\n", r.passed, r.failedN, r.skipped)
}

// short names a package of this module by its directory ("." for the
// root), any other by its import path.
func short(pkg string) string {
	const mod = "github.com/psgate/psgate"
	if pkg == mod {
		return "."
	}
	if rest, ok := strings.CutPrefix(pkg, mod+"/"); ok {
		return rest
	}
	return pkg
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
