package telemetryservice

import (
	"net"
	"net/http"
	"sync"
)

// Connections bounds the connections a receiver's listeners hold open
// together, so that what unfinished headers hold (each connection at most
// the header limit and its buffers) is bounded too, however many clients
// connect. A listener at the bound accepts the next connection once one
// closes; until then it waits in the kernel's queue, as with any server
// that is slow to accept.
//
// With more than one listener, each holds at most the bound less a
// quarter of it (less one, for a bound of two to seven): the connections
// one server keeps open, idle ones too, never leave the others without any.
type Connections struct {
	slots chan struct{}
	// each is the most connections one listener holds.
	each int
}

// NewConnections bounds the connections of the given number of listeners
// to n together.
func NewConnections(n, listeners int) *Connections {
	each := n
	if listeners > 1 {
		each = n - reserved(n)
	}
	return &Connections{slots: make(chan struct{}, n), each: each}
}

// reserved is what one listener cannot take of a bound of n connections: a
// quarter, and at least one from a bound of two.
func reserved(n int) int {
	if n < 2 {
		return 0
	}
	return max(1, n/4)
}

// Limit returns ln, accepting a connection only while fewer than the bound
// are open on every listener Limit and LimitHTTP returned, and fewer than
// a listener's share on ln.
func (c *Connections) Limit(ln net.Listener) net.Listener {
	return c.limit(ln, true)
}

// LimitHTTP is Limit for srv, which is to serve ln: its connections are
// handed over as they are (a *tls.Conn must stay one for the server to see
// it), and srv's ConnState tells when one is gone.
func (c *Connections) LimitHTTP(srv *http.Server, ln net.Listener) net.Listener {
	l := c.limit(ln, false)
	before := srv.ConnState
	srv.ConnState = func(conn net.Conn, state http.ConnState) {
		if state == http.StateClosed || state == http.StateHijacked {
			l.release()
		}
		if before != nil {
			before(conn, state)
		}
	}
	return l
}

func (c *Connections) limit(ln net.Listener, wrap bool) *limitedListener {
	return &limitedListener{Listener: ln, slots: c.slots, own: make(chan struct{}, c.each), closed: make(chan struct{}), wrap: wrap}
}

type limitedListener struct {
	net.Listener
	// slots are every listener's, own this one's.
	slots, own chan struct{}
	closed     chan struct{}
	closeOnce  sync.Once
	// wrap gives each connection back its slot when it is closed; without
	// it, the server says when.
	wrap bool
}

// Accept takes the next connection and hands it over once there is room:
// the one accepted waits for it, holding nothing but its socket, and the
// ones after it wait in the kernel's queue.
func (l *limitedListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case l.own <- struct{}{}:
	case <-l.closed:
		conn.Close()
		return nil, net.ErrClosed
	}
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		<-l.own
		conn.Close()
		return nil, net.ErrClosed
	}
	if !l.wrap {
		return conn, nil
	}
	return &limitedConn{Conn: conn, release: l.release}, nil
}

// release gives back a connection's slots.
func (l *limitedListener) release() {
	<-l.slots
	<-l.own
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	releaseOnce sync.Once
	release     func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(c.release)
	return err
}
