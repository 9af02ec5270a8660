package client

import (
	"testing"

	"github.com/psgate/psgate"
)

// Without the open wait, a session works as usual, and refusals still come
// from Dial.
func TestNoOpenWait(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name     string
		password string
		wantCode psgate.Code
	}{
		{"commands run", adminPassword, ""},
		{"wrong password fails Dial", "wrong", psgate.CodeLogonFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ts.config()
			cfg.Password, cfg.NoOpenWait = tt.password, true
			if tt.wantCode != "" {
				_, err := Dial(testCtx(t), cfg)
				if got := psgate.CodeOf(err); got != tt.wantCode {
					t.Fatalf("Dial error %v, want %s", err, tt.wantCode)
				}
				return
			}
			s := dial(t, cfg)
			for _, want := range []string{"one", "two"} {
				res, err := s.Run(testCtx(t), Script("Write-Output "+want), RunOptions{})
				if err != nil || len(res.Output) != 1 || res.Output[0] != want {
					t.Fatalf("run: %v %v, want %s", res, err, want)
				}
			}
		})
	}
}
