package zitadeltelemetry

import (
	"context"
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
)

// The soak's size. `go test` runs the short soak; `make soak` the full one:
// 200 cycles of 1,000 organizations, measured from cycle 20.
var (
	soakCycles = flag.Int("soak.cycles", 24, "scrape-and-report cycles of the soak")
	soakOrgs   = flag.Int("soak.orgs", 100, "organizations in the soak's ZITADEL")
	soakWarm   = flag.Int("soak.warm", 4, "cycle after which goroutines and heap are the baseline")
	soakRate   = flag.Float64("soak.faults", 0.05, "share of ZITADEL and telemetry calls that fail")
)

// soakTelemetry reads the exporter's own counters, as the collector exposes them.
type soakTelemetry struct{ *componenttest.Telemetry }

func (s soakTelemetry) sum(t *testing.T, name string) int64 {
	t.Helper()
	m, err := s.GetMetric(name)
	if err != nil {
		return 0 // not recorded yet
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

// TestSoakWithFaults runs scrape-and-report cycles of one ZITADEL through
// the api source and the exporter while a share of ZITADEL's calls and of the
// endpoint's calls fail at random (unavailable, throttled with a delay to
// wait, slow beyond the client's timeout, connection reset). Every cycle's
// report either arrives whole, each row once after the endpoint's
// deduplication, or its failure is counted in the exporter's own
// send_failed counter; goroutines do not grow, and the heap after the last
// cycle is within 10 % of the baseline cycle's.
func TestSoakWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	spec := fakezitadel.DefaultSpec()
	spec.Instances, spec.OrgsPerInstance = 1, *soakOrgs
	ds := fakezitadel.Generate(spec)
	zitadelFaults := faults.New(*soakRate, 1)
	zitadelFaults.RetryAfter, zitadelFaults.SlowCap = 50*time.Millisecond, 2*time.Second
	zitadel := fakezitadel.NewServer(ds, fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}, Faults: zitadelFaults})
	require.NoError(t, zitadel.Start("127.0.0.1:0", ""))
	t.Cleanup(zitadel.Close)

	endpointFaults := faults.New(*soakRate, 2)
	endpointFaults.SlowCap = 5 * time.Second
	endpoint := telemetryserver.New(telemetryserver.Options{DropRequests: true, Faults: endpointFaults})
	require.NoError(t, endpoint.Start("127.0.0.1:0", ""))
	t.Cleanup(func() { _ = endpoint.Close() })

	rcfg := apiReceiverConfig(zitadel)
	rcfg.SystemID = "soak-system"
	rcfg.API.RequestTimeout = 100 * time.Millisecond
	rcfg.API.Retry = zitadelapi.RetryConfig{MaxRetries: 6, InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	scraper := startScraper(t, rcfg)

	tel := soakTelemetry{componenttest.NewTelemetry()}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(ExporterType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	// The test telemetry keeps every span it is given: the soak counts on
	// metrics only, and spans would grow the heap that is measured.
	set.TelemetrySettings.TracerProvider = nooptrace.NewTracerProvider()
	ecfg := testExporterConfig(ProtocolHTTP, endpoint)
	ecfg.HTTP.Timeout = 500 * time.Millisecond
	ecfg.RetryConfig.Enabled = true
	ecfg.RetryConfig.InitialInterval, ecfg.RetryConfig.MaxInterval = 5*time.Millisecond, 50*time.Millisecond
	ecfg.RetryConfig.MaxElapsedTime = 20 * time.Second
	want := expectedReport(ds)
	// About 15 pages a report, so that every cycle meets the endpoint's faults.
	ecfg.BulkSize = len(want)/15 + 1
	exp := startExporter(t, ecfg, set)

	var complete, failed, partialScrapes int
	var baseGoroutines int
	var baseHeap uint64
	started := time.Now()
	for cycle := 1; cycle <= *soakCycles; cycle++ {
		endpoint.Reset()
		if cycle == *soakCycles/2 {
			// One report the endpoint refuses for good: its loss must show
			// in the counters.
			endpoint.Fail(1, codes.InvalidArgument)
		}
		md, scrapeErr := scraper.scrape(t.Context())
		if scrapeErr != nil {
			// A partial scrape is reported for what it has; the collector's
			// scraper counters take the error.
			partialScrapes++
			t.Logf("cycle %d: partial scrape: %v", cycle, scrapeErr)
		}
		points := int64(md.DataPointCount())
		sentBefore, failedBefore := tel.sum(t, "otelcol_exporter_sent_metric_points"), tel.sum(t, "otelcol_exporter_send_failed_metric_points")
		err := exp.ConsumeMetrics(t.Context(), md)
		sent := tel.sum(t, "otelcol_exporter_sent_metric_points") - sentBefore
		lost := tel.sum(t, "otelcol_exporter_send_failed_metric_points") - failedBefore
		if err != nil {
			failed++
			assert.Equal(t, points, lost, "cycle %d: a failed report is counted in send_failed_metric_points: %v", cycle, err)
		} else {
			complete++
			assert.Equal(t, points, sent, "cycle %d: sent_metric_points", cycle)
			if scrapeErr == nil {
				snap, ok := endpoint.Snapshot(rcfg.SystemID)
				require.True(t, ok, "cycle %d: no report arrived", cycle)
				assert.Equal(t, want, receivedRows(snap), "cycle %d: the report is not the dataset's, each row once", cycle)
			}
		}
		if cycle == *soakWarm {
			baseGoroutines, baseHeap = settledGoroutines(0), heapAfterGC()
			t.Logf("baseline after cycle %d: %d goroutines, heap %d KiB", cycle, baseGoroutines, baseHeap>>10)
		}
	}
	goroutines, heap := settledGoroutines(baseGoroutines), heapAfterGC()
	elapsed := time.Since(started)
	t.Logf("soak: %d cycles of %d organizations (%d rows) in %s: %d complete, %d failed and counted, %d partial scrapes; "+
		"zitadel faults %v, endpoint faults %v; goroutines %d -> %d, heap %d KiB -> %d KiB (%+.1f %%)",
		*soakCycles, *soakOrgs, len(want), elapsed.Round(time.Second), complete, failed, partialScrapes,
		faultCounts(zitadelFaults), faultCounts(endpointFaults), baseGoroutines, goroutines,
		baseHeap>>10, heap>>10, 100*(float64(heap)/float64(baseHeap)-1))
	assert.Positive(t, complete)
	assert.Positive(t, failed, "the refused report")
	assert.LessOrEqual(t, goroutines, baseGoroutines, "goroutines grew")
	assert.InEpsilon(t, float64(baseHeap), float64(heap), 0.10, "heap after the last cycle against the baseline")
	if *soakRate > 0 {
		z, e := faultCounts(zitadelFaults), faultCounts(endpointFaults)
		for k := faults.Unavailable; k <= faults.Reset; k++ {
			assert.Positive(t, z[k.String()], "no ZITADEL call failed as %s", k)
			assert.Positive(t, e[k.String()], "no endpoint call failed as %s", k)
		}
	}
}

func faultCounts(in *faults.Injector) map[string]int {
	out := map[string]int{}
	for k, n := range in.Counts() {
		out[k.String()] = n
	}
	return out
}

// settledGoroutines is the goroutine count once connections closing in the
// background are gone: it waits, up to five seconds, for the count to reach
// atMost (0: a single look).
func settledGoroutines(atMost int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); atMost > 0 && n > atMost && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// soakRow identifies a count the way the endpoint deduplicates it.
type soakRow struct{ instance, parentType, parent, resource string }

func expectedReport(ds *fakezitadel.Dataset) map[soakRow]uint32 {
	want := map[soakRow]uint32{}
	for _, c := range ds.ExpectedReported() {
		want[soakRow{c.InstanceID, c.ParentType, c.ParentID, c.Resource}] = uint32(c.Amount)
	}
	return want
}

func receivedRows(snap telemetryserver.SystemSnapshot) map[soakRow]uint32 {
	got := map[soakRow]uint32{}
	for _, r := range snap.Rows {
		parent := model.ParentInstance
		if r.ParentType == analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION {
			parent = model.ParentOrganization
		}
		got[soakRow{r.InstanceId, parent, r.ParentId, r.ResourceName}] = r.Amount
	}
	return got
}
