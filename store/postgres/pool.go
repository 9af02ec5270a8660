package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
)

// pool is a small bounded pool of pgx connections. (pgxpool would need
// github.com/jackc/puddle/v2 required in go.mod.) Broken connections are
// dropped when they are handed back, and connections idle for a while are
// pinged before use, so a server restart costs at most one failed
// statement per stale connection, which the retry loop absorbs.
type pool struct {
	cfg      *pgx.ConnConfig
	slots    chan struct{}
	idle     chan *pooledConn
	lifetime time.Duration

	mu     sync.Mutex
	closed bool
}

type pooledConn struct {
	*pgx.Conn
	born time.Time // connected
	used time.Time // last handed back
}

// pingIdle is how long a connection may sit idle before it is pinged.
const pingIdle = 30 * time.Second

func newPool(cfg *pgx.ConnConfig, size int, lifetime time.Duration) *pool {
	return &pool{
		cfg:      cfg,
		slots:    make(chan struct{}, size),
		idle:     make(chan *pooledConn, size),
		lifetime: lifetime,
	}
}

// acquire returns an idle or new connection, waiting for a free slot.
func (p *pool) acquire(ctx context.Context) (*pooledConn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.isClosed() {
		<-p.slots
		return nil, fmt.Errorf("postgres: store is closed: %w", store.ErrUnavailable)
	}
	for c := p.takeIdle(); c != nil; c = p.takeIdle() {
		if !c.IsClosed() && time.Since(c.born) < p.lifetime &&
			(time.Since(c.used) < pingIdle || c.Ping(ctx) == nil) {
			return c, nil
		}
		closeConn(c)
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &pooledConn{Conn: c, born: time.Now()}, nil
}

// takeIdle returns an idle connection, or nil when there is none.
func (p *pool) takeIdle() *pooledConn {
	select {
	case c := <-p.idle:
		return c
	default:
		return nil
	}
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// release hands a connection back; a broken or busy one is closed.
func (p *pool) release(c *pooledConn) {
	defer func() { <-p.slots }()
	if p.isClosed() || c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I' {
		closeConn(c)
		return
	}
	c.used = time.Now()
	select {
	case p.idle <- c:
	default:
		closeConn(c)
	}
}

// close closes the idle connections; connections in use are closed when
// they are released.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for c := p.takeIdle(); c != nil; c = p.takeIdle() {
		closeConn(c)
	}
}

func closeConn(c *pooledConn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}
