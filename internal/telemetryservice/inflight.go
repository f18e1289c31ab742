package telemetryservice

import (
	"fmt"
	"sync"
	"time"
)

// InFlight bounds the bytes that the calls in flight on every wire hold
// together: their bodies as they arrive, then, before anything is decoded,
// what their rows or instances will cost decoded and as metrics. A call
// that would go beyond it is refused at once as RESOURCE_EXHAUSTED (HTTP
// 429) with a retry delay, so that the client comes back once the calls
// before it were answered, instead of the memory_limiter, which reads the
// heap now and then, refusing every call after the memory was spent. Each
// call holds at least its first buffer, so the bound is one on calls too.
//
// A gRPC call books the largest message it may send before the message
// arrives, megabytes for a few bytes of headers. What calls book for
// messages that have not arrived is held to half the limit, so that calls
// which sent nothing never leave the other half without room for the bytes
// that did arrive, on any wire.
type InFlight struct {
	mu    sync.Mutex
	limit int64
	held  int64
	// unread is what the calls book for messages not arrived yet, at most
	// unreadLimit; it is part of held.
	unread, unreadLimit int64
}

// NewInFlight bounds the bytes in flight to limit, and what is booked for
// messages not arrived yet to half of it.
func NewInFlight(limit int64) *InFlight {
	return &InFlight{limit: limit, unreadLimit: limit / 2}
}

// Held is what the calls in flight hold now.
func (f *InFlight) Held() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

// Unread is what the calls in flight book for messages not arrived yet, a
// part of Held.
func (f *InFlight) Unread() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unread
}

// RetryAfter is the delay a call refused for the bytes in flight is told to
// wait: about what a page of ZITADEL's takes to be answered.
const RetryAfter = time.Second

// What a call holds besides its body, charged from the rows and instances
// counted before it is decoded. Measured while the calls wait for the
// pipeline (TestTheChargeCoversWhatACallHolds): a row holds 460 to 490
// bytes decoded and as metrics, an instance 750 as a resource, each of its
// domains 50 more.
const (
	bytesPerRow      = 512
	bytesPerInstance = 1024
	bytesPerDomain   = 64
)

// charge is what one call holds of an InFlight; the zero charge of a nil
// InFlight holds nothing and is never refused.
type charge struct {
	of   *InFlight
	held int64
	// unread is the part of held booked for a message not arrived yet.
	unread int64
}

// inFlightError is a call refused for the bytes in flight; unread, for what
// is booked for messages not arrived yet.
type inFlightError struct {
	held, limit, more int64
	unread            bool
}

func (e *inFlightError) Error() string {
	if e.unread {
		return fmt.Sprintf("the calls whose messages have not arrived yet hold %d bytes of the %d (half of max_bytes_in_flight) "+
			"this receiver books for them, and this one needs %d more; try again in %s", e.held, e.limit, e.more, RetryAfter)
	}
	return fmt.Sprintf("the calls in flight hold %d bytes of the %d this receiver takes at once (max_bytes_in_flight), "+
		"and this one needs %d more; try again in %s", e.held, e.limit, e.more, RetryAfter)
}

// to changes what the call holds to n bytes of what arrived; it fails with
// an *inFlightError, holding what it held before, when more would go beyond
// the limit.
func (c *charge) to(n int64) error {
	return c.set(n, 0)
}

// toUnread changes what the call holds to n bytes booked for a message not
// arrived yet; it fails like to, or when the bookings for messages not
// arrived would go beyond their half of the limit.
func (c *charge) toUnread(n int64) error {
	return c.set(n, n)
}

func (c *charge) set(n, unread int64) error {
	if c.of == nil {
		return nil
	}
	c.of.mu.Lock()
	defer c.of.mu.Unlock()
	if n > c.held && c.of.held+n-c.held > c.of.limit {
		return &inFlightError{held: c.of.held, limit: c.of.limit, more: n - c.held}
	}
	if unread > c.unread && c.of.unread+unread-c.unread > c.of.unreadLimit {
		return &inFlightError{held: c.of.unread, limit: c.of.unreadLimit, more: unread - c.unread, unread: true}
	}
	c.of.held += n - c.held
	c.held = n
	c.of.unread += unread - c.unread
	c.unread = unread
	return nil
}

// release gives back all the call holds.
func (c *charge) release() {
	_ = c.to(0)
}
