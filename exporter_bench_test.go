package zitadeltelemetry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// The benchmark installation: 1,000,000 counts across 100 instances, each
// with 500 organizations and 20 resources per organization.
const (
	benchInstances = 100
	benchOrgs      = 500
	benchCounts    = benchInstances * benchOrgs * 20
)

var benchResources = []string{
	model.ResourceUser, model.ResourceUserMachine, model.ResourceProject, model.ResourceApplication,
	model.ResourceSession, model.ResourceAuthorization, model.ResourceSCIMProvisionedUser, model.ResourceIAMAdmin,
	model.ResourceIdentityProvider, model.ResourceIdentityProviderLDAP, model.ResourceActionV1, model.ResourceExecution,
	model.ResourceExecutionTarget, model.ResourceLoginPolicy, model.ResourceEnforceMFA,
	model.ResourcePasswordComplexityPolicy, model.ResourcePasswordExpiryPolicy, model.ResourceLockoutPolicy,
	model.ResourcePasswordChangeNotification, model.ResourceOrganization,
}

var benchMetrics = sync.OnceValue(func() pmetric.Metrics {
	md := contractMetrics("bench-system-0123456789abcdefghijklmnopqrstuvwxyz", benchInstances, benchOrgs, benchResources...)
	if n := md.DataPointCount(); n != benchCounts {
		panic(fmt.Sprintf("benchmark data has %d counts, not %d", n, benchCounts))
	}
	return md
})

// reportPerCount adds ns/count and allocs/count to a benchmark of whole
// batches of benchCounts.
func reportPerCount(b *testing.B, mallocsBefore uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	counts := float64(b.N) * benchCounts
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
	md := benchMetrics()
	builder := &reportBuilder{sendDomains: true}
	b.ReportAllocs()
	before := mallocs()
	for b.Loop() {
		built := builder.build(md)
		if len(built.systems) != 1 || len(built.systems[0].rows) != benchCounts {
			b.Fatal("mapping lost counts")
		}
		built.release()
	}
	reportPerCount(b, before)
}

// BenchmarkExporterReport sends the whole report, through the exporter the
// factory builds, to the reference endpoint on loopback, and compares it with
// the floor: marshalling the same requests with proto.Marshal and POSTing the
// bytes to a handler that only reads them.
func BenchmarkExporterReport(b *testing.B) {
	md := benchMetrics()
	requests := floorRequests(md)
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
			floor := timeFloor(b, requests, b.N)
			b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-floor")
			if snap, _ := s.Snapshot(s.Systems()[0]); len(snap.Rows) != benchCounts {
				b.Fatalf("the endpoint holds %d rows, not %d", len(snap.Rows), benchCounts)
			}
		})
	}
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			runFloor(b, requests)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*benchCounts), "ns/count")
	})
}

// timeFloor times n runs of runFloor.
func timeFloor(b *testing.B, requests []proto.Message, n int) time.Duration {
	start := time.Now()
	for range n {
		runFloor(b, requests)
	}
	return time.Since(start)
}

var floorServer = sync.OnceValue(func() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
	}()
	return "http://" + ln.Addr().String()
})

// floorRequests are the report's requests, built once: the floor leaves the
// mapping out.
func floorRequests(md pmetric.Metrics) []proto.Message {
	var requests []proto.Message
	for _, sr := range (&reportBuilder{sendDomains: true}).build(md).systems {
		requests = append(requests, sr.base)
		for _, page := range sr.pages(defaultBulkSize) {
			id := "report-1"
			requests = append(requests, &analytics.ReportResourceCountsRequest{SystemId: sr.systemID, ReportId: &id, ResourceCounts: page})
		}
	}
	return requests
}

// runFloor is the least any transport has to do for the same report: encode
// the requests and move the bytes over loopback.
func runFloor(b *testing.B, requests []proto.Message) {
	url := floorServer()
	for _, req := range requests {
		body, err := proto.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.Post(url, "application/proto", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
