//go:build !race

package identity

// raceEnabled is set when the race detector runs: it distorts timings.
const raceEnabled = false
