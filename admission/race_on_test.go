//go:build race

package admission

// raceEnabled shortens the slowest tests under the race detector, which
// slows the SQLite driver (translated C) by an order of magnitude.
const raceEnabled = true
