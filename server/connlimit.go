package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate/internal/logkey"
)

// Defaults of the connection limits.
const (
	// DefaultBodyTimeout is how long a client has to send a request's
	// body once its headers arrived. A WS-Man envelope is at most
	// 512 kB; a body trickled a byte at a time held a connection (and a
	// file descriptor) forever before.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultMaxConnections bounds the open client connections of all
	// listeners together, below the usual descriptor limits, so that
	// connections nobody finishes cannot take every descriptor.
	DefaultMaxConnections = 8192
)

// bodyDeadline gives each request body a read deadline of budget from the
// moment its handler starts, lifted once the body has been read to its end
// (a Receive then long-polls without a deadline on the connection).
func bodyDeadline(next http.Handler, budget time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(budget)); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		next.ServeHTTP(w, r)
	})
}

type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// connLimiter counts the open connections of every listener it wraps and
// closes new ones beyond max at once, so that established clients keep
// working while the server is flooded.
type connLimiter struct {
	max    int64
	open   atomic.Int64
	log    *slog.Logger
	mu     sync.Mutex
	warned time.Time
}

func (l *connLimiter) wrap(ln net.Listener) net.Listener { return &limitedListener{Listener: ln, l: l} }

type limitedListener struct {
	net.Listener
	l *connLimiter
}

func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ln.l.open.Add(1) > ln.l.max {
			ln.l.open.Add(-1)
			c.Close()
			ln.l.refused(c.RemoteAddr())
			continue
		}
		return &countedConn{Conn: c, l: ln.l}, nil
	}
}

// refused logs a refused connection, at most once a minute.
func (l *connLimiter) refused(from net.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.warned) < time.Minute {
		return
	}
	l.warned = time.Now()
	l.log.Warn("connection limit reached: closing new connections until some end", "max", l.max, logkey.Client, from.String())
}

type countedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
