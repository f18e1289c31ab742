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
type Connections struct {
	slots chan struct{}
}

// NewConnections bounds the connections to n.
func NewConnections(n int) *Connections {
	return &Connections{slots: make(chan struct{}, n)}
}

// Limit returns ln, accepting a connection only while fewer than the bound
// are open on every listener Limit and LimitHTTP returned.
func (c *Connections) Limit(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, slots: c.slots, closed: make(chan struct{}), wrap: true}
}

// LimitHTTP is Limit for srv, which is to serve ln: its connections are
// handed over as they are (a *tls.Conn must stay one for the server to see
// it), and srv's ConnState tells when one is gone.
func (c *Connections) LimitHTTP(srv *http.Server, ln net.Listener) net.Listener {
	before := srv.ConnState
	srv.ConnState = func(conn net.Conn, state http.ConnState) {
		if state == http.StateClosed || state == http.StateHijacked {
			<-c.slots
		}
		if before != nil {
			before(conn, state)
		}
	}
	return &limitedListener{Listener: ln, slots: c.slots, closed: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
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
	case l.slots <- struct{}{}:
	case <-l.closed:
		conn.Close()
		return nil, net.ErrClosed
	}
	if !l.wrap {
		return conn, nil
	}
	return &limitedConn{Conn: conn, release: func() { <-l.slots }}, nil
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
