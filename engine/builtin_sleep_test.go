package engine

import (
	"context"
	"testing"
	"time"

	"github.com/psgate/psgate"
)

func TestStartSleepStopsOnCancel(t *testing.T) {
	c := NewCatalog()
	if err := RegisterBuiltins(c); err != nil {
		t.Fatal(err)
	}
	rs := NewRunspace(RunspaceConfig{Catalog: c})
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
