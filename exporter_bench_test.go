package zitadeltelemetry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// The benchmark installation: 1,000,000 counts across 100 instances, each
// with 500 organizations and 20 resources per organization.
// reportPerCount adds ns/count and allocs/count to a benchmark of whole
// batches of testkit.BenchCounts.
func reportPerCount(b *testing.B, mallocsBefore uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	counts := float64(b.N) * testkit.BenchCounts
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/counts, "ns/count")
	b.ReportMetric(float64(ms.Mallocs-mallocsBefore)/counts, "allocs/count")
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkExporterMapping is the mapping alone: pmetric to requests.
func BenchmarkExporterMapping(b *testing.B) {
	md := testkit.BenchMetrics()
	builder := report.NewBuilder("", "", true, nil)
	b.ReportAllocs()
	before := mallocs()
	for b.Loop() {
		built := builder.Build(md)
		if len(built.Systems()) != 1 || len(built.Systems()[0].Rows()) != testkit.BenchCounts {
			b.Fatal("mapping lost counts")
		}
		built.Release()
	}
	reportPerCount(b, before)
}

// BenchmarkExporterReport sends the whole report, through the exporter the
// factory builds, to the reference endpoint on loopback, and compares it with
// the floor: marshalling the same requests with proto.Marshal and POSTing the
// bytes to a handler that only reads them.
func BenchmarkExporterReport(b *testing.B) {
	md := testkit.BenchMetrics()
	requests := floorRequests(md)
	floor := newFloorEndpoint(b)
	for _, protocol := range allProtocols {
		b.Run(protocol, func(b *testing.B) {
			s := telemetryserver.New(telemetryserver.Options{DropRequests: true})
			require.NoError(b, s.Start("127.0.0.1:0", "127.0.0.1:0"))
			defer s.Close()
			cfg := testExporterConfig(protocol, s)
			cfg.Timeout = 0
			exp := startExporter(b, cfg, exportertest.NewNopSettings(ExporterType))

			b.ReportAllocs()
			before := mallocs()
			for b.Loop() {
				if err := exp.ConsumeMetrics(context.Background(), md); err != nil {
					b.Fatal(err)
				}
			}
			reportPerCount(b, before)
			// The machine is shared: the floor is measured right after, as
			// often, outside the timer, so the ratio compares neighbours.
			floorTime := timeFloor(b, floor, requests, b.N)
			b.ReportMetric(float64(b.Elapsed())/float64(floorTime), "x-floor")
			if snap, _ := s.Snapshot(s.Systems()[0]); len(snap.Rows) != testkit.BenchCounts {
				b.Fatalf("the endpoint holds %d rows, not %d", len(snap.Rows), testkit.BenchCounts)
			}
		})
	}
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			floor.run(b, requests)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*testkit.BenchCounts), "ns/count")
	})
}

// timeFloor times n runs of the floor.
func timeFloor(b *testing.B, floor *floorEndpoint, requests []proto.Message, n int) time.Duration {
	start := time.Now()
	for range n {
		floor.run(b, requests)
	}
	return time.Since(start)
}

// floorEndpoint is the floor's receiving side: a handler that only reads the
// body, and a client of its own, both stopped when the benchmark ends so that
// no connection outlives it.
type floorEndpoint struct {
	url    string
	client *http.Client
}

func newFloorEndpoint(tb testing.TB) *floorEndpoint {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	client := &http.Client{Transport: &http.Transport{}}
	tb.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return &floorEndpoint{url: srv.URL, client: client}
}

// floorRequests are the report's requests, built once: the floor leaves the
// mapping out.
func floorRequests(md pmetric.Metrics) []proto.Message {
	var requests []proto.Message
	for _, sr := range report.NewBuilder("", "", true, nil).Build(md).Systems() {
		requests = append(requests, sr.Base())
		for _, page := range sr.Pages(fieldshape.DefaultBulkSize) {
			id := "report-1"
			requests = append(requests, &analytics.ReportResourceCountsRequest{SystemId: sr.SystemID(), ReportId: &id, ResourceCounts: page})
		}
	}
	return requests
}

// run is the least any transport has to do for the same report: encode the
// requests and move the bytes over loopback.
func (f *floorEndpoint) run(tb testing.TB, requests []proto.Message) {
	for _, req := range requests {
		body, err := proto.Marshal(req)
		if err != nil {
			tb.Fatal(err)
		}
		resp, err := f.client.Post(f.url, "application/proto", bytes.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// The floor's server and connections end with the benchmark that used them;
// goleak over the package fails the whole benchmark run otherwise.
func TestFloorEndpointStopsWithItsBenchmark(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Run("floor", func(t *testing.T) {
		requests := floorRequests(testkit.ContractMetrics("floor-system", 1, 2, model.ResourceUser))
		newFloorEndpoint(t).run(t, requests)
	})
	goleak.VerifyNone(t, before)
}
