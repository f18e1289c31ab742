package telemetryservice

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Bodies are read into buffers that grow with the bytes that arrived, never
// with the length a client declares: a client that declares 20 MiB and sends
// a byte a second holds 64 KiB, and no buffer is ever more than eight times
// what arrived. A buffer grows eightfold, and the step that reaches the
// declared length allocates exactly that length, so a page in flight holds
// its own bytes as when its buffer was sized from Content-Length at once;
// a 2.4 MiB page passes through one intermediate buffer of 512 KiB. The
// first buffer, which a base information fits whole, comes from a pool; the
// larger ones are not kept, as a pool of them would stay on the heap the
// memory_limiter reads long after a burst.
const (
	firstReadBytes = 64 << 10
	bodyGrowth     = 8
)

var firstBuffers = sync.Pool{New: func() any { b := make([]byte, 0, firstReadBytes); return &b }}

// releaseBody gives a first buffer back to the pool; nothing may read it
// after. Larger buffers are left to the collector.
func releaseBody(b []byte) {
	if cap(b) == firstReadBytes {
		b = b[:0]
		firstBuffers.Put(&b)
	}
}

// readBody reads r's body, at most maxBody bytes, charging held with each
// buffer before it is taken; when the bytes in flight leave no room for it,
// the error is an *inFlightError. The caller releases the body with
// releaseBody once nothing refers to it, and held when the call ends.
func readBody(w http.ResponseWriter, r *http.Request, maxBody int64, held *charge) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	// A declared length only keeps the buffer from growing past it.
	ceiling := maxBody
	if r.ContentLength >= 0 {
		ceiling = min(ceiling, r.ContentLength)
	}
	if err := held.to(firstReadBytes); err != nil {
		return nil, err
	}
	buf := (*firstBuffers.Get().(*[]byte))[:0]
	for {
		if limit := min(int64(cap(buf)), ceiling); int64(len(buf)) < limit {
			n, err := body.Read(buf[len(buf):limit])
			buf = buf[:len(buf)+n]
			if err != nil {
				return finishBody(buf, err)
			}
			continue
		}
		// The buffer is full: the body ends here, or it is longer than the
		// buffer (or than declared), which one byte more tells.
		var probe [1]byte
		n, err := body.Read(probe[:])
		if n == 0 && err != nil {
			return finishBody(buf, err)
		}
		if n == 0 {
			continue
		}
		if len(buf) == cap(buf) {
			size := int64(cap(buf)) * bodyGrowth
			if ceiling > int64(len(buf)) {
				size = min(size, ceiling)
			}
			// The buffer before is held until copied over.
			if err := held.to(int64(cap(buf)) + size); err != nil {
				releaseBody(buf)
				return nil, err
			}
			grown := append(make([]byte, 0, size), buf...)
			releaseBody(buf)
			buf = grown
			_ = held.to(size) // less than held: never refused
		}
		buf = append(buf, probe[0])
		if int64(len(buf)) > ceiling {
			ceiling = maxBody // more than declared: the server's reader refuses it
		}
	}
}

func finishBody(buf []byte, err error) ([]byte, error) {
	if errors.Is(err, io.EOF) {
		return buf, nil
	}
	releaseBody(buf)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("the body is larger than %d bytes, the receiver's max_request_body_size: %w", tooLarge.Limit, err)
	}
	return nil, fmt.Errorf("reading the body: %w", err)
}
