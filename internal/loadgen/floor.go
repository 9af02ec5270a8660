package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds what the capacity run measures with: the meter every
// client's requests go through, and the echo floor, a plain net/http
// server that answers each request with its own body, against which the
// requests one psgate command sends are replayed.

// meter is the http.RoundTripper of one capacity client, psgate's or the
// floor's alike. It counts the requests, times each from sending to the
// close of its response body and, while recording, keeps a copy of each
// request so that the floor can replay the same bytes.
type meter struct {
	rt       *http.Transport
	requests atomic.Int64

	mu        sync.Mutex
	lat       []time.Duration
	recording bool
	recorded  []recordedRequest
}

// recordedRequest is one request as a psgate client sent it.
type recordedRequest struct {
	method, uri string
	header      http.Header
	body        []byte
}

// newMeteredClient returns an HTTP client with its own transport and
// source address ip (nil: any): the client shape of every capacity
// client, psgate's and the floor's, so that both sides pay the same
// client-side costs.
func newMeteredClient(ip net.IP) (*http.Client, *meter) {
	m := &meter{rt: &http.Transport{
		DialContext:         dialer(func() net.IP { return ip }),
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}}
	return &http.Client{Transport: m, Timeout: opTimeout}, m
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	rec := m.recording
	m.mu.Unlock()
	if rec {
		rr, err := recordRequest(r)
		if err != nil {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, err
		}
		m.mu.Lock()
		m.recorded = append(m.recorded, rr)
		m.mu.Unlock()
	}
	start := time.Now()
	resp, err := m.rt.RoundTrip(r)
	m.requests.Add(1)
	if err != nil {
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, m: m, start: start}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (m *meter) CloseIdleConnections() { m.rt.CloseIdleConnections() }

// record starts keeping copies of the requests sent.
func (m *meter) record() {
	m.mu.Lock()
	m.recording, m.recorded = true, nil
	m.mu.Unlock()
}

// stopRecording returns the requests sent since record.
func (m *meter) stopRecording() []recordedRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	seq := m.recorded
	m.recording, m.recorded = false, nil
	return seq
}

// takeLatencies returns the request latencies measured so far and starts
// afresh.
func (m *meter) takeLatencies() []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	lat := m.lat
	m.lat = nil
	return lat
}

func (m *meter) observe(d time.Duration) {
	m.mu.Lock()
	if len(m.lat) < maxSamples {
		m.lat = append(m.lat, d)
	}
	m.mu.Unlock()
}

// recordRequest copies r without consuming its body.
func recordRequest(r *http.Request) (recordedRequest, error) {
	rr := recordedRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone()}
	if r.Body == nil || r.Body == http.NoBody {
		return rr, nil
	}
	if r.GetBody == nil {
		return rr, errors.New("loadgen: cannot record a request whose body cannot be read twice")
	}
	body, err := r.GetBody()
	if err != nil {
		return rr, err
	}
	defer body.Close()
	rr.body, err = io.ReadAll(body)
	return rr, err
}

// timedBody reports the request's latency when its response body is
// closed, once.
type timedBody struct {
	io.ReadCloser
	m     *meter
	start time.Time
	once  sync.Once
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.m.observe(time.Since(b.start)) })
	return err
}

// maxEchoBody bounds a request body the echo floor reads.
const maxEchoBody = 4 << 20

// EchoHandler is the echo floor: a plain net/http handler answering every
// request 200 with its own body and Content-Type. Replaying a psgate
// command's requests against it gives the cost of the same HTTP exchange
// with no gateway behind it.
func EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEchoBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

// floorClient replays a recorded command against the echo floor.
type floorClient struct {
	base string
	hc   *http.Client
	m    *meter
}

// replay sends seq in order, as one floor "command".
func (f *floorClient) replay(ctx context.Context, seq []recordedRequest) error {
	for _, rr := range seq {
		req, err := http.NewRequestWithContext(ctx, rr.method, f.base+rr.uri, bytes.NewReader(rr.body))
		if err != nil {
			return err
		}
		req.Header = rr.header.Clone()
		resp, err := f.hc.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("echo floor: HTTP %d: %.200s", resp.StatusCode, b)
		case len(b) != len(rr.body):
			return fmt.Errorf("echo floor: %d bytes back for %d sent", len(b), len(rr.body))
		}
	}
	return nil
}
