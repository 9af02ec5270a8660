package storetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// auditKillEnv turns a run of the test binary into the child of
// RunAuditKill; it holds the target the child opens.
const auditKillEnv = "PSGATE_STORETEST_AUDIT_KILL_TARGET"

// Shape of the kill test: appenders in the child, acknowledgements after
// which the parent kills it.
const (
	killAppenders = 32
	killAfterAcks = 2000
)

// RunAuditKill checks that AppendAudit returns only once its record is
// durable: a child process (this test binary, run again) appends records
// from 32 goroutines and prints "ack <id> <marker>" after each
// AppendAudit returns; the parent kills it with SIGKILL after about 2,000
// acknowledgements, reopens the store and expects every acknowledged
// record, with its content, under its ID.
//
// Call it from a top-level test. newTarget runs in the parent only and
// names a new, empty store (a file path, a DSN); open opens the store a
// target names, in the child and, after the kill, in the parent.
func RunAuditKill(t *testing.T, newTarget func(t *testing.T) string, open func(t *testing.T, target string) store.Store) {
	if target, ok := os.LookupEnv(auditKillEnv); ok {
		auditKillChild(t, open(t, target))
		return
	}
	target := newTarget(t)

	var run []string
	for _, name := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(name)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(run, "/"), "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), auditKillEnv+"="+target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the child: %v", err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// Every line read was written after its AppendAudit returned,
	// including those the child wrote between the kill and its death.
	acked := map[string]int64{} // marker → ID
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			continue // the test framework's own output
		}
		id, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", sc.Text())
		}
		acked[f[2]] = id
		if len(acked) >= killAfterAcks && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatalf("kill the child: %v", err)
			}
			killed = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the child's output: %v", err)
	}
	werr := cmd.Wait()
	if !killed {
		killed = true
		t.Fatalf("the child stopped after %d acknowledgements (%v); its stderr:\n%s", len(acked), werr, stderr.String())
	}

	s := open(t, target)
	defer s.Close()
	got, err := s.SearchAudit(t.Context(), store.AuditFilter{Limit: 1 << 30})
	if err != nil {
		t.Fatalf("SearchAudit() after the kill: %v", err)
	}
	byID := make(map[int64]store.AuditRecord, len(got))
	for _, r := range got {
		byID[r.ID] = r
	}
	found, reported := 0, 0
	for marker, id := range acked {
		want, err := killRecord(marker)
		if err != nil {
			t.Fatalf("child acknowledged %q: %v", marker, err)
		}
		want.ID = id
		r, ok := byID[id]
		if ok && diff(r, want) == "" {
			found++
			continue
		}
		if reported++; reported > 10 {
			continue // the count below says how many
		}
		if !ok {
			t.Errorf("acknowledged record %s (ID %d) is missing after the kill", marker, id)
		} else {
			t.Errorf("acknowledged record %s (ID %d) after the kill (-got +want):\n%s", marker, id, diff(r, want))
		}
	}
	msg := fmt.Sprintf("acknowledged %d records before SIGKILL reached the child; found %d of them after reopening; the log holds %d",
		len(acked), found, len(got))
	if found != len(acked) {
		t.Error(msg)
	} else {
		t.Log(msg)
	}
}

// auditKillChild appends from killAppenders goroutines until it is killed
// (or, should the parent be gone, for a minute). Odd appenders append
// pipelines of two records (store.AuditGenerations, as admission does),
// the others one record at a time.
func auditKillChild(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ag, ok := s.(store.AuditGenerations)
	if !ok {
		t.Fatalf("%T does not implement store.AuditGenerations", s)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range killAppenders {
		wg.Go(func() {
			per := 1 + g%2 // records per append
			for n := 0; ctx.Err() == nil; n += per {
				markers := make([]string, per)
				recs := make([]store.AuditRecord, per)
				for i := range per {
					markers[i] = fmt.Sprintf("g%d-n%d", g, n+i)
					r, err := killRecord(markers[i])
					if err != nil {
						t.Error(err)
						return
					}
					recs[i] = r
				}
				var ids []int64
				var err error
				if per == 1 {
					var id int64
					id, err = s.AppendAudit(ctx, recs[0])
					ids = []int64{id}
				} else {
					ids, _, err = ag.AppendAudits(ctx, recs)
				}
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("append %v error = %v", markers, err)
					}
					return
				}
				var acks strings.Builder
				for i, id := range ids {
					fmt.Fprintf(&acks, "ack %d %s\n", id, markers[i])
				}
				out.Lock()
				fmt.Fprint(os.Stdout, acks.String()) // one write(2)
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// killRecord returns the record a marker "g<appender>-n<count>" stands
// for, so that the parent can rebuild what the child appended.
func killRecord(marker string) (store.AuditRecord, error) {
	var g, n int
	if _, err := fmt.Sscanf(marker, "g%d-n%d", &g, &n); err != nil {
		return store.AuditRecord{}, fmt.Errorf("bad marker %q: %w", marker, err)
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return store.AuditRecord{Time: t0.Add(time.Duration(n) * time.Millisecond), TenantID: psgate.TenantID(g + 1), UserID: psgate.UserID(n + 1),
		UPN: "user" + marker + "@contoso.test", Action: store.ActionCommand, ShellID: shellID(g), CommandID: marker,
		Cmdlet: "Set-CsUser", Parameters: `{"Identity":"` + marker + `"}`, Outcome: store.OutcomeOK,
		Duration: time.Duration(n) * time.Microsecond, ClientAddr: "192.0.2.7", Detail: strings.Repeat(marker+" ", 30)}, nil
}
