package telemetryservice

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// trickle is a body that sends a few bytes and then fails, as a connection
// cut off by the server's read timeout does.
func trickle(sent string) io.ReadCloser {
	return io.NopCloser(io.MultiReader(strings.NewReader(sent), iotest.ErrReader(io.ErrUnexpectedEOF)))
}

// allocatedBy is what f allocates, in bytes.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestMemoryGrowsWithTheBytesReceived: a body declaring the whole limit, or
// far beyond it, that sends a few bytes costs about what it sent; a whole
// body costs at most about twice its size.
func TestMemoryGrowsWithTheBytesReceived(t *testing.T) {
	const limit = 20 << 20
	h := &handoffHandler{pool: &trackedPool{}}
	s := NewHTTPHandler(h, HTTPOptions{Path: "/p", MaxBodyBytes: limit})
	for _, declared := range []int64{limit, 1 << 40, -1} {
		req := httptest.NewRequest(http.MethodPost, "/p/resource_counts", trickle(`{"systemId":"s","resourceCounts":[`))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = declared
		w := httptest.NewRecorder()
		if got := allocatedBy(func() { s.ServeHTTP(w, req) }); got > 256<<10 {
			t.Errorf("declaring %d bytes and sending 34 cost %d bytes", declared, got)
		}
		if w.Code != http.StatusBadRequest {
			t.Errorf("a body cut off was answered %d", w.Code)
		}
	}

	body := `{"systemId":"s","resourceCounts":[]}` + strings.Repeat(" ", 3<<20)
	for _, declared := range []int64{int64(len(body)), -1} {
		req := httptest.NewRequest(http.MethodPost, "/p/resource_counts", io.NopCloser(strings.NewReader(body)))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = declared
		w := httptest.NewRecorder()
		if got := allocatedBy(func() { s.ServeHTTP(w, req) }); got > uint64(3*len(body)) {
			t.Errorf("a body of %d bytes (declared %d) cost %d bytes", len(body), declared, got)
		}
		if w.Code != http.StatusOK {
			t.Errorf("a whole body was answered %d: %s", w.Code, w.Body)
		}
	}
}

// TestTheHandlerEnforcesItsLimit whatever the server in front of it does.
func TestTheHandlerEnforcesItsLimit(t *testing.T) {
	h := &handoffHandler{pool: &trackedPool{}}
	s := NewHTTPHandler(h, HTTPOptions{Path: "/p", MaxBodyBytes: 64})
	req := httptest.NewRequest(http.MethodPost, "/p/resource_counts", strings.NewReader(`{"systemId":"s"}`+strings.Repeat(" ", 64)))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "larger than 64 bytes") {
		t.Errorf("a body over the limit was answered %d: %s", w.Code, w.Body)
	}
	if len(h.refusedReasons) != 1 || h.refusedReasons[0] != ReasonTooLarge {
		t.Errorf("refused as %v", h.refusedReasons)
	}
}
