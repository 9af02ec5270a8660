// Command testprogress turns the event stream of `go test -json` into what
// a person watching the test suite wants: one line per package as it
// finishes, the output of every failing test in full, a line every half
// minute naming the packages still running (so a long run never looks
// hung), and a closing count. Lines that are not JSON events (the go
// command's own build errors) are passed through as they are.
//
//	go test -json ./... 2>&1 | go run ./internal/cmd/testprogress
//
// It exits 1 when a test or a package failed, else 0; the test script also
// checks go test's own exit status.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed, err := run(ctx, os.Stdin, os.Stdout, 30*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testprogress:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// run reads events from in until it ends and writes the report to out,
// with a heartbeat line after every quiet interval.
func run(ctx context.Context, in io.Reader, out io.Writer, interval time.Duration) (failed bool, err error) {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
		}
		close(lines)
		readErr <- sc.Err()
	}()
	r := newReport(out, time.Now)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				r.finish()
				return r.failed(), <-readErr
			}
			if r.line(line) {
				tick.Reset(interval)
			}
		case <-tick.C:
			r.heartbeat()
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
}
