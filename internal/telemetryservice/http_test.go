package telemetryservice

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
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
		want := http.StatusBadRequest // cut off
		if declared > limit {
			want = http.StatusRequestEntityTooLarge // unread
		}
		if w.Code != want {
			t.Errorf("declaring %d bytes and sending 34 was answered %d", declared, w.Code)
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
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "more than 64") {
		t.Errorf("a body over the limit was answered %d: %s", w.Code, w.Body)
	}
	if len(h.refusedReasons) != 1 || h.refusedReasons[0] != ReasonTooLarge {
		t.Errorf("refused as %v", h.refusedReasons)
	}
}

// keepingHandler keeps the requests it was handed.
type keepingHandler struct {
	handoffHandler
	pages []*analytics.ReportResourceCountsRequest
	bases []*analytics.ReportBaseInformationRequest
}

func (h *keepingHandler) ReportBaseInformation(_ context.Context, _ Call, req *analytics.ReportBaseInformationRequest) (string, error) {
	h.bases = append(h.bases, req)
	return "id", nil
}

func (h *keepingHandler) ReportResourceCounts(_ context.Context, _ Call, req *analytics.ReportResourceCountsRequest) (string, error) {
	h.pages = append(h.pages, req)
	return "id", nil
}

// TestPooledBodiesAreNotReferenced: the body's buffer goes back to its pool
// once decoded; what the handler was given does not change when the next
// body overwrites that buffer.
func TestPooledBodiesAreNotReferenced(t *testing.T) {
	h := &keepingHandler{handoffHandler: handoffHandler{pool: &trackedPool{}}}
	s := NewHTTPHandler(h, HTTPOptions{Path: "/p", MaxBodyBytes: 1 << 20})
	for _, call := range []struct{ path, body string }{
		{"/p/resource_counts", `{"systemId":"sys-1","resourceCounts":[{"instanceId":"i1","parentType":"COUNT_PARENT_TYPE_INSTANCE","parentId":"i1","resourceName":"user","amount":3}]}`},
		{"/p/instances", `{"systemId":"sys-2","version":"v4.1.0","instances":[{"id":"i2","domains":["a.example.com"]}]}`},
	} {
		req := httptest.NewRequest(http.MethodPost, call.path, strings.NewReader(call.body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", call.path, w.Code, w.Body)
		}
		for range 4 { // whatever buffer the pool hands out next is overwritten
			b := (*firstBuffers.Get().(*[]byte))[:firstReadBytes]
			for i := range b {
				b[i] = 'x'
			}
			releaseBody(b)
		}
	}
	page, base := h.pages[0], h.bases[0]
	if page.SystemId != "sys-1" || page.ResourceCounts[0].InstanceId != "i1" || page.ResourceCounts[0].ResourceName != "user" {
		t.Errorf("the page changed with its buffer: %v", page)
	}
	if base.SystemId != "sys-2" || base.Version != "v4.1.0" || base.Instances[0].Domains[0] != "a.example.com" {
		t.Errorf("the base information changed with its buffer: %v", base)
	}
}

// TestBodiesAreReadWhole around the size classes, with and without a
// declared length, and more than declared is refused.
func TestBodiesAreReadWhole(t *testing.T) {
	for _, size := range []int{0, 1, firstReadBytes - 1, firstReadBytes, firstReadBytes + 1, 4*firstReadBytes + 1, 3 << 20} {
		want := strings.Repeat("z", size)
		for _, declared := range []int64{int64(size), -1} {
			req := httptest.NewRequest(http.MethodPost, "/", iotest.HalfReader(strings.NewReader(want)))
			req.ContentLength = declared
			got, err := readBody(httptest.NewRecorder(), req, 4<<20, &charge{})
			if err != nil || string(got) != want {
				t.Errorf("%d bytes declared as %d: read %d bytes, %v", size, declared, len(got), err)
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("z", 100)))
	req.ContentLength = -1
	if _, err := readBody(httptest.NewRecorder(), req, 99, &charge{}); err == nil || !strings.Contains(err.Error(), "larger than 99 bytes") {
		t.Errorf("a body over the limit: %v", err)
	}
}

// TestAWholeBodyCostsItsLengthAndOneStep: a body of declared length ends in
// a buffer of exactly that length, after one intermediate step.
func TestAWholeBodyCostsItsLengthAndOneStep(t *testing.T) {
	body := strings.Repeat("z", 2380000)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	var got []byte
	allocated := allocatedBy(func() { got, _ = readBody(httptest.NewRecorder(), req, 20<<20, &charge{}) })
	if len(got) != len(body) || cap(got) != len(body) {
		t.Errorf("read %d bytes into %d", len(got), cap(got))
	}
	if want := uint64(len(body) + firstReadBytes*(bodyGrowth+1) + 16<<10); allocated > want {
		t.Errorf("reading %d bytes allocated %d, more than %d", len(body), allocated, want)
	}
}
