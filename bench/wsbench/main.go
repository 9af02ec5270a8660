// Command wsbench measures psgate's WS-Management latency over HTTP with
// keep-alive: a WinRS command round trip on an open shell (Command →
// Receive → Signal) and shell Create → Delete. It prints p50, p99 and
// requests per second for each.
//
// Usage: wsbench -url http://127.0.0.1:5985/wsman -user U -password P [-n 2000]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:5985/wsman", "gateway endpoint")
	user := flag.String("user", "admin@contoso.test", "user name")
	pw := flag.String("password", os.Getenv("PSGATE_PASSWORD"), "password (default $PSGATE_PASSWORD)")
	n := flag.Int("n", 2000, "iterations per scenario")
	command := flag.String("command", "Get-CsTenant", "command line to run")
	flag.Parse()
	c := loadgen.NewClient(*url, *user, *pw)
	if err := run(c, *n, *command); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func run(c *loadgen.Client, n int, command string) error {
	shell, err := c.Create()
	if err != nil {
		return err
	}
	// Warm up connections and caches.
	for range 50 {
		if err := c.RoundTrip(shell, command); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, 0, n)
	c.Requests.Store(0)
	start := time.Now()
	for range n {
		t := time.Now()
		if err := c.RoundTrip(shell, command); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	report("command round trip (Command+Receive+Signal)", lat, c.Requests.Load(), time.Since(start))
	if err := c.Delete(shell); err != nil {
		return err
	}

	lat = lat[:0]
	c.Requests.Store(0)
	start = time.Now()
	for range n {
		t := time.Now()
		id, err := c.Create()
		if err != nil {
			return err
		}
		if err := c.Delete(id); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	report("shell Create+Delete", lat, c.Requests.Load(), time.Since(start))
	return nil
}

func report(name string, lat []time.Duration, requests int64, total time.Duration) {
	p := loadgen.Summarise(lat)
	fmt.Printf("%-45s n=%d p50=%v p90=%v p99=%v  %.0f req/s  %.0f iterations/s\n", name, p.N,
		p.P50.Round(time.Microsecond), p.P90.Round(time.Microsecond), p.P99.Round(time.Microsecond),
		float64(requests)/total.Seconds(), float64(p.N)/total.Seconds())
}
