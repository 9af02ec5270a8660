package stack

import (
	"testing"
)

// deep recurses n frames of about 256 bytes each, as a command goroutine's
// calls through the engine and the store do.
//
//go:noinline
func deep(n int) int {
	var pad [32]int64
	pad[n%32] = int64(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%32]&1)
}

// BenchmarkGoroutine starts a goroutine that goes about 24 KiB deep, as
// the gateway's command goroutines do, with and without Grow first.
func BenchmarkGoroutine(b *testing.B) {
	for _, tc := range []struct {
		name string
		grow bool
	}{{"plain", false}, {"grown", true}} {
		b.Run(tc.name, func(b *testing.B) {
			done := make(chan int)
			for b.Loop() {
				go func() {
					if tc.grow {
						Grow()
					}
					done <- deep(80)
				}()
				<-done
			}
		})
	}
}
