package gctune

import "testing"

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},          // nothing live yet
		{32 * mib, 400},   // a small heap: capped at Max
		{128 * mib, 200},  // 256 MiB over 128 MiB live
		{256 * mib, 100},  // Go's default
		{1536 * mib, 100}, // 100,000 idle shells: never below the default
	} {
		if got := Percent(tc.live, 256*mib, 400); got != tc.want {
			t.Errorf("Percent(%d MiB live) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}
