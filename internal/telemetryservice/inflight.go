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
type InFlight struct {
	mu    sync.Mutex
	limit int64
	held  int64
}

// NewInFlight bounds the bytes in flight to limit.
func NewInFlight(limit int64) *InFlight {
	return &InFlight{limit: limit}
}

// Held is what the calls in flight hold now.
func (f *InFlight) Held() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
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
}

// inFlightError is a call refused for the bytes in flight.
type inFlightError struct{ held, limit, more int64 }

func (e *inFlightError) Error() string {
	return fmt.Sprintf("the calls in flight hold %d bytes of the %d this receiver takes at once (max_bytes_in_flight), "+
		"and this one needs %d more; try again in %s", e.held, e.limit, e.more, RetryAfter)
}

// to changes what the call holds to n bytes; it fails with an
// *inFlightError, holding what it held before, when more would go beyond
// the limit.
func (c *charge) to(n int64) error {
	if c.of == nil {
		return nil
	}
	c.of.mu.Lock()
	defer c.of.mu.Unlock()
	if n > c.held && c.of.held+n-c.held > c.of.limit {
		return &inFlightError{held: c.of.held, limit: c.of.limit, more: n - c.held}
	}
	c.of.held += n - c.held
	c.held = n
	return nil
}

// release gives back all the call holds.
func (c *charge) release() {
	_ = c.to(0)
}
