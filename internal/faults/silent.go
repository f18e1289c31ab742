package faults

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// SilentEndpoint serves HTTP that accepts every connection and request and
// answers none until the test ends: a peer that hangs. Each request that
// arrives is signalled on requests.
func SilentEndpoint(tb testing.TB) (url string, requests <-chan struct{}) {
	tb.Helper()
	got := make(chan struct{}, 1000)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	tb.Cleanup(func() { once.Do(func() { close(release) }); srv.Close() })
	return srv.URL, got
}
