package client

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunCommandLines(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	tests := []struct {
		name    string
		cmd     Command
		want    []any
		wantErr psgate.Code
	}{
		{"script output", Script("Write-Output 'one','two'"), []any{"one", "two"}, ""},
		{"structured", Pipe(NewCmd("Write-Output").Arg("three")), []any{"three"}, ""},
		{"pipeline", Pipe(NewCmd("Write-Output").Arg([]any{int32(3), int32(1), int32(2)}), NewCmd("Sort-Object")), []any{int32(1), int32(2), int32(3)}, ""},
		{"unknown command", Script("Get-Nothing"), nil, psgate.CodeCommandNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Run(testCtx(t), tt.cmd, RunOptions{})
			if err == nil {
				err = res.Err() // a non-terminating error
			}
			if got := psgate.CodeOf(err); err != nil && got != tt.wantErr || err == nil && tt.wantErr != "" {
				t.Fatalf("error = %v, want code %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			if len(res.Output) != len(tt.want) {
				t.Fatalf("output = %#v, want %#v", res.Output, tt.want)
			}
			for i := range tt.want {
				if res.Output[i] != tt.want[i] {
					t.Errorf("output[%d] = %#v, want %#v", i, res.Output[i], tt.want[i])
				}
			}
		})
	}
}

func TestRunStreamsTypedObjects(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	var got []*psobject.Object
	res, err := s.Run(testCtx(t), Script("Get-CsOnlineUser"), RunOptions{Output: func(v any) {
		if o, ok := v.(*psobject.Object); ok {
			got = append(got, o)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 0 {
		t.Errorf("objects were collected although a callback was given")
	}
	if len(got) < 5 {
		t.Fatalf("got %d users, want the demo tenant's (at least 5)", len(got))
	}
	upn, _ := got[0].Get("UserPrincipalName")
	if s, _ := upn.(string); s == "" {
		t.Errorf("first user has no UserPrincipalName: %v", got[0])
	}
}

func TestRunCollectsRecords(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	var streams []string
	res, err := s.Run(testCtx(t), Script("Write-Warning 'careful'; Write-Error 'broken'; Write-Output 'after'"), RunOptions{
		Record: func(r Record) { streams = append(streams, r.Stream) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Message != "broken" {
		t.Errorf("errors = %+v", res.Errors)
	}
	if res.Err() == nil {
		t.Errorf("Result.Err() = nil with an error record")
	}
	if len(res.Output) != 1 || res.Output[0] != "after" {
		t.Errorf("output = %v", res.Output)
	}
	t.Logf("streams %v, warnings %v", streams, res.Warnings)
}

func TestRunStopsOnCancel(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Run(ctx, Script("Start-Sleep -Seconds 30"), RunOptions{})
	if psgate.CodeOf(err) != psgate.CodePipelineStopped {
		t.Fatalf("error = %v, want %s", err, psgate.CodePipelineStopped)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %v", d)
	}
	// The session is still usable.
	res, err := s.Run(testCtx(t), Script("Write-Output ok"), RunOptions{})
	if err != nil || len(res.Output) != 1 {
		t.Fatalf("after stop: %v, %v", res, err)
	}
}

func TestSessionsListAndClose(t *testing.T) {
	ts := startServer(t)
	a := dial(t, ts.config())
	b := dial(t, ts.config())
	ctx := testCtx(t)
	list, err := a.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, si := range list {
		ids[si.ID] = true
	}
	if len(list) != 2 || !ids[a.ID()] || !ids[b.ID()] {
		t.Fatalf("sessions = %+v, want %s and %s", list, a.ID(), b.ID())
	}
	if err := a.CloseSession(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	_, err = b.Run(ctx, Script("Write-Output x"), RunOptions{})
	if psgate.CodeOf(err) != psgate.CodeShellNotFound {
		t.Errorf("running on a closed session: %v, want %s", err, psgate.CodeShellNotFound)
	}
	if err := CloseSession(ctx, ts.config(), "00000000-0000-4000-8000-000000000000"); psgate.CodeOf(err) != psgate.CodeShellNotFound {
		t.Errorf("closing an unknown session: %v", err)
	}
	list, err = ListSessions(ctx, ts.config())
	if err != nil || len(list) != 1 || list[0].ID != a.ID() {
		t.Errorf("after close: %+v, %v", list, err)
	}
}

func TestServerCloseReasonsReachTheClient(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	ts.expireAll(t)
	_, err := s.Run(testCtx(t), Script("Write-Output x"), RunOptions{})
	e, ok := psgate.AsError(err)
	if !ok || e.Code != psgate.CodeLifetimeReached {
		t.Fatalf("error = %v, want %s", err, psgate.CodeLifetimeReached)
	}
	if e.Resolution == "" {
		t.Errorf("the fault's resolution did not reach the client")
	}
}

// A pipeline larger than one envelope travels in a Command and Sends;
// pipeline input reaches the command.
func TestRunLargeCommandAndInput(t *testing.T) {
	ts := startServer(t)
	s := dial(t, ts.config())
	big := strings.Repeat("x", 700<<10)
	res, err := s.Run(testCtx(t), Pipe(NewCmd("Write-Output").Arg(big)), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 1 || res.Output[0] != big {
		t.Fatalf("got %d objects back, want the %d-character string", len(res.Output), len(big))
	}
	res, err = s.Run(testCtx(t), Pipe(NewCmd("Sort-Object")), RunOptions{Input: []any{"b", "c", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 3 || res.Output[0] != "a" || res.Output[2] != "c" {
		t.Errorf("sorted input = %v", res.Output)
	}
}
