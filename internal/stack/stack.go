// Package stack grows a goroutine's stack before deep work, so the
// runtime copies it once while it is shallow instead of several times
// while it is deep.
//
// A goroutine starts on a small stack (a few KiB) that the runtime doubles
// whenever a call needs more, copying every live frame and adjusting
// every pointer into it. A command goroutine of the gateway goes deep
// quickly (the engine, the directory cache, database/sql, the SQLite
// driver, the CLIXML decoder): a CPU profile at 100 PSRP clients spent 8 %
// of the server's time in runtime.copystack, nearly all of it in those
// goroutines, each grown three or four times at a depth of dozens of
// frames. Growing it at the start, one frame deep, costs one copy of
// almost nothing.
package stack

// Size is how much stack Grow secures. A command on an open shell used
// between 16 and 32 KiB; the runtime rounds up to a power of two, so
// asking for a little under 32 KiB gets a 32 KiB stack.
const Size = 28 << 10

// Grow makes the calling goroutine's stack at least Size bytes deep. Even
// on a stack already large enough it zeroes its 28 KiB frame (REP STOSQ),
// so it belongs at the start of a goroutine that will go deep, not on a
// path taken per request: called at the top of the gateway's request
// handler it cost 13 % of WinRS commands/s.
//
//go:noinline
func Grow() {
	var frame [Size]byte
	keep(frame[:])
}

// keep stops the compiler from dropping Grow's frame: the array must
// exist for a callee to receive it.
//
//go:noinline
func keep([]byte) {}
