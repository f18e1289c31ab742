package zitadeltelemetryreceiver

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetrywire"
	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

const (
	benchPageRows = 10000
	benchSystemID = "YjU3NzE2ZDItOGM0Ny00ZTIxLWE1MzEtYzE0ZTMxNjk0NmQ2LXN5c3RlbS1pZC1ieXRlcw"
)

// benchPage is a page as ZITADEL sends it.
func benchPage(reportID string) *analytics.ReportResourceCountsRequest {
	return contracttest.ZITADELPage(benchSystemID, reportID, benchPageRows)
}

func benchReceiver(b *testing.B) (*telemetryReceiver, string) {
	cfg := createDefaultConfig().(*Config)
	r, err := newTelemetryReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return r, r.ids.issue(benchSystemID)
}

// reportPerRow adds the figures docs/benchmarks.md quotes: time per row and
// bytes allocated per byte of the page.
func reportPerRow(b *testing.B, pageBytes int, allocated func() uint64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPageRows), "ns/row")
	b.ReportMetric(float64(allocated())/float64(b.N)/float64(pageBytes), "alloc/page-byte")
	b.ReportMetric(float64(pageBytes), "page-bytes")
}

// BenchmarkTelemetryReceiverPage is the receiver's work on one 10,000-row
// ReportResourceCounts page on each wire: read and decode the body, check
// every row and the report id, build the metric contract, hand it to the
// next consumer and answer. The floors are protojson.Unmarshal and
// proto.Unmarshal of the same page: decoding alone, with no check and no
// pdata.
func BenchmarkTelemetryReceiverPage(b *testing.B) {
	r, id := benchReceiver(b)
	page := benchPage(id)
	jsonBody, err := protojson.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	protoBody, err := proto.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	_, counts := officialMethods(b)
	handler := telemetryservice.NewHTTPHandler(r, telemetryservice.HTTPOptions{Path: "/zitadel/ping", MaxBodyBytes: 20 << 20, Decoding: r.decoding()})
	serve := func(b *testing.B, path, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	run := func(name string, body []byte, once func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			var m0, m1 runtimeMem
			m0.read()
			b.ReportAllocs()
			for b.Loop() {
				once(b)
			}
			m1.read()
			reportPerRow(b, len(body), func() uint64 { return m1.total - m0.total })
		})
	}
	run("http", jsonBody, func(b *testing.B) { serve(b, "/zitadel/ping/resource_counts", "application/json", jsonBody) })
	run("http-floor", jsonBody, func(b *testing.B) {
		if err := protojson.Unmarshal(jsonBody, &analytics.ReportResourceCountsRequest{}); err != nil {
			b.Fatal(err)
		}
	})
	run("connect", jsonBody, func(b *testing.B) { serve(b, "/zitadel/ping"+counts, "application/json", jsonBody) })
	run("grpc", protoBody, func(b *testing.B) {
		// What the gRPC service does after grpc-go read the message.
		req, err := telemetrywire.DecodeCountsWithoutTimes(protoBody, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReportResourceCounts(context.Background(), telemetryservice.Call{Wire: telemetryservice.WireGRPC, Binary: true}, req); err != nil {
			b.Fatal(err)
		}
	})
	decoded, err := telemetrywire.DecodeCountsWithoutTimes(protoBody, true)
	if err != nil {
		b.Fatal(err)
	}
	run("pdata", protoBody, func(*testing.B) {
		// Building the metric contract alone, from a decoded page.
		countMetrics(decoded, time.Time{}, time.Time{}, false)
	})
	run("grpc-floor", protoBody, func(b *testing.B) {
		if err := proto.Unmarshal(protoBody, &analytics.ReportResourceCountsRequest{}); err != nil {
			b.Fatal(err)
		}
	})
}

// liveBytes is how much the reachable heap grew while build ran, with what
// it returned kept alive.
func liveBytes(build func() any) int64 {
	before := reachableHeap()
	kept := build()
	after := reachableHeap()
	runtime.KeepAlive(kept)
	return after - before
}

// reachableHeap is the heap reachable now. Two collections: buffers given
// back to a sync.Pool (gRPC's) survive the first one.
func reachableHeap() int64 {
	var s runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&s)
	return int64(s.HeapAlloc)
}

// BenchmarkTelemetryReceiverPageMemory reports, per byte of a 10,000-row
// page, the heap a page in flight keeps reachable. rows/page-byte is its
// decoded rows while decoding, beside the body (decoding alone, as the
// receiver decodes by default). handoff/page-byte is measured on a receiver
// serving loopback, in its next consumer while the metrics are handed on:
// the heap then less the heap before the call, which already held the
// client's copy of the body. peak/page-byte is the larger of the body and
// the rows while decoding, and the hand-off.
func BenchmarkTelemetryReceiverPageMemory(b *testing.B) {
	var atHandoff atomic.Int64
	measuring, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		atHandoff.Store(reachableHeap())
		runtime.KeepAlive(md)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	u := startTelemetryReceiver(b, measuring, nil)
	page := benchPage(u.r.ids.issue(benchSystemID))
	jsonBody, _ := protojson.Marshal(page)
	protoBody, _ := proto.Marshal(page)
	page = nil //nolint:ineffassign,wastedassign // lets the collector free the page before the measured runs
	wires := u.wires(b)
	for _, wire := range []struct {
		name   string
		body   []byte
		binary bool
	}{{"http", jsonBody, false}, {"grpc", protoBody, true}} {
		b.Run(wire.name, func(b *testing.B) {
			client := wires["zitadel"]
			if wire.binary {
				client = wires["grpc"]
			}
			var rows, handoff int64
			for b.Loop() {
				rows = liveBytes(func() any {
					req, err := telemetrywire.DecodeCountsWithoutTimes(wire.body, wire.binary)
					if err != nil {
						b.Fatal(err)
					}
					return req
				})
				before := reachableHeap()
				if got := client.send(b, true, nil, wire.body); got.code != "ok" {
					b.Fatalf("%d %s %s", got.httpStatus, got.code, got.message)
				}
				handoff = max(handoff, atHandoff.Load()-before)
			}
			n := float64(len(wire.body))
			b.ReportMetric(float64(rows)/n, "rows/page-byte")
			b.ReportMetric(float64(handoff)/n, "handoff/page-byte")
			b.ReportMetric(max(1+float64(rows)/n, float64(handoff)/n), "peak/page-byte")
		})
	}
}
