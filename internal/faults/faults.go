// Package faults makes a share of the calls a test server answers fail at
// random, the ways a network and a busy server fail: unavailable, throttled
// with a delay to wait, slow beyond the client's timeout, or the connection
// reset under the call.
package faults

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Kind is one way a call fails.
type Kind int

// The kinds, chosen with equal chances.
const (
	None Kind = iota
	Unavailable
	Throttled
	Slow
	Reset
	kinds
)

func (k Kind) String() string {
	return [...]string{"none", "unavailable", "throttled", "slow", "reset"}[k]
}

// Injector decides for each call whether and how it fails. The zero value
// injects nothing; use New.
type Injector struct {
	// RetryAfter is what a throttled call asks the client to wait.
	RetryAfter time.Duration
	// SlowCap bounds how long a slow call holds on when its client does
	// not give up first.
	SlowCap time.Duration

	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts [kinds]int
	conns  map[string]net.Conn
}

// New fails rate (0 to 1) of the calls, drawn from a generator seeded with
// seed, so a run can be repeated.
func New(rate float64, seed uint64) *Injector {
	return &Injector{
		RetryAfter: time.Second, SlowCap: 30 * time.Second,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate, conns: make(map[string]net.Conn),
	}
}

// Counts returns how many calls failed in each way.
func (in *Injector) Counts() map[Kind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[Kind]int, kinds-1)
	for k := Unavailable; k < kinds; k++ {
		out[k] = in.counts[k]
	}
	return out
}

func (in *Injector) next() Kind {
	if in == nil {
		return None
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.rng.Float64() >= in.rate {
		return None
	}
	k := Kind(1 + in.rng.IntN(int(kinds)-1))
	in.counts[k]++
	return k
}

// Listen tracks the connections ln accepts, so that a call can be failed by
// resetting its connection.
func (in *Injector) Listen(ln net.Listener) net.Listener {
	if in == nil {
		return ln
	}
	return &trackingListener{Listener: ln, in: in}
}

type trackingListener struct {
	net.Listener
	in *Injector
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, in: l.in, remote: c.RemoteAddr().String()}
	l.in.mu.Lock()
	l.in.conns[tc.remote] = c
	l.in.mu.Unlock()
	return tc, nil
}

// trackedConn forgets itself when closed, so a long run keeps no record of
// the connections that came and went.
type trackedConn struct {
	net.Conn
	in     *Injector
	remote string
}

func (c *trackedConn) Close() error {
	c.in.mu.Lock()
	delete(c.in.conns, c.remote)
	c.in.mu.Unlock()
	return c.Conn.Close()
}

// reset closes the connection from remote with a TCP reset.
func (in *Injector) reset(remote string) {
	in.mu.Lock()
	c := in.conns[remote]
	delete(in.conns, remote)
	in.mu.Unlock()
	if c == nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// hold waits until the client gives up or SlowCap passes.
func (in *Injector) hold(ctx context.Context) {
	t := time.NewTimer(in.SlowCap)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// HTTP fails calls to h; Reset needs the server's listener from Listen.
func (in *Injector) HTTP(h http.Handler) http.Handler {
	if in == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch in.next() {
		case Unavailable:
			http.Error(w, "injected: unavailable", http.StatusServiceUnavailable)
		case Throttled:
			w.Header().Set("Retry-After", strconv.Itoa(int(max(in.RetryAfter/time.Second, 1))))
			http.Error(w, "injected: throttled", http.StatusTooManyRequests)
		case Slow:
			// net/http notices a client that gave up only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			in.hold(r.Context())
			http.Error(w, "injected: slow", http.StatusServiceUnavailable)
		case Reset:
			in.reset(r.RemoteAddr)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// Unary fails gRPC calls; Reset needs the server's listener from Listen.
func (in *Injector) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	switch in.next() {
	case Unavailable:
		return nil, status.Error(codes.Unavailable, "injected: unavailable")
	case Throttled:
		st, _ := status.New(codes.ResourceExhausted, "injected: throttled").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(in.RetryAfter)})
		return nil, st.Err()
	case Slow:
		in.hold(ctx)
		return nil, status.Error(codes.Unavailable, "injected: slow")
	case Reset:
		if p, ok := peer.FromContext(ctx); ok {
			in.reset(p.Addr.String())
		}
		return nil, status.Error(codes.Unavailable, "injected: reset")
	}
	return handler(ctx, req)
}
