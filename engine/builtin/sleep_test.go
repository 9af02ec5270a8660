package builtin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
)

func TestStartSleepStopsOnCancel(t *testing.T) {
	c := engine.NewCatalog()
	if err := Register(c); err != nil {
		t.Fatal(err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: c})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- rs.RunScript(ctx, "Start-Sleep -Seconds 30", nil, &recorder{}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if psgate.CodeOf(err) != psgate.CodePipelineStopped {
			t.Fatalf("cancelled Start-Sleep returned %v, want %s", err, psgate.CodePipelineStopped)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start-Sleep ignored the stop")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("stop took too long")
	}
	if err := rs.RunScript(context.Background(), "Start-Sleep -Milliseconds 10", nil, &recorder{}); err != nil {
		t.Fatalf("Start-Sleep -Milliseconds 10: %v", err)
	}
}

// Start-Sleep waits at most an hour: a longer or negative wait is refused
// with PowerShell's range text instead of overflowing to no wait at all.
func TestStartSleepRange(t *testing.T) {
	c := engine.NewCatalog()
	if err := Register(c); err != nil {
		t.Fatal(err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: c})
	for line, want := range map[string]string{
		"Start-Sleep -Seconds 1e10":         "The 1E+10 argument is greater than the maximum allowed range of 3600.",
		"Start-Sleep -Seconds -1":           "The -1 argument is less than the minimum allowed range of 0.",
		"Start-Sleep -Milliseconds 3600001": "greater than the maximum allowed range of 3600000",
	} {
		err := rs.RunScript(context.Background(), line, nil, &recorder{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %v, want an error containing %q", line, err, want)
		}
	}
}
