package telemetryservice

import (
	"net"
	"testing"
	"time"
)

// accepted accepts on ln until it stops, handing over what it accepted.
func accepted(t *testing.T, ln net.Listener) <-chan net.Conn {
	t.Helper()
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- conn
		}
	}()
	return conns
}

// dialN opens n connections to ln.
func dialN(t *testing.T, ln net.Listener, n int) {
	t.Helper()
	for range n {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
	}
}

func count(conns <-chan net.Conn, within time.Duration) (n int, last net.Conn) {
	deadline := time.After(within)
	for {
		select {
		case c := <-conns:
			n, last = n+1, c
		case <-deadline:
			return n, last
		}
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// With two listeners, one holds at most its share of the bound, and the
// other is served meanwhile; one closed gives its slot back.
func TestEachListenerHoldsItsShare(t *testing.T) {
	c := NewConnections(4, 2)
	a, b := c.Limit(listen(t)), c.Limit(listen(t))
	fromA, fromB := accepted(t, a), accepted(t, b)
	dialN(t, a, 4)
	n, last := count(fromA, 300*time.Millisecond)
	if n != 3 {
		t.Fatalf("the first listener took %d of 4 connections, want 3", n)
	}
	dialN(t, b, 1)
	if n, _ := count(fromB, 300*time.Millisecond); n != 1 {
		t.Fatalf("the second listener took %d connections while the first held its share", n)
	}
	last.Close()
	if n, _ := count(fromA, 300*time.Millisecond); n != 1 {
		t.Fatal("the first listener's waiting connection was not taken once one closed")
	}
}

// A listener alone holds the whole bound.
func TestALoneListenerHoldsTheBound(t *testing.T) {
	c := NewConnections(4, 1)
	a := c.Limit(listen(t))
	dialN(t, a, 5)
	if n, _ := count(accepted(t, a), 300*time.Millisecond); n != 4 {
		t.Fatalf("took %d of 5 connections, want 4", n)
	}
}

func TestReserved(t *testing.T) {
	for n, want := range map[int]int{1: 0, 2: 1, 4: 1, 7: 1, 8: 2, 1000: 250} {
		if got := reserved(n); got != want {
			t.Errorf("reserved(%d) = %d, want %d", n, got, want)
		}
	}
}
