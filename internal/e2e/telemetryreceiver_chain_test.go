package e2e

import (
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// edgeTemplate scrapes the fake ZITADEL once and sends the report twice: to
// a reference endpoint (the first hop) and to the central collector.
var edgeTemplate = template.Must(template.New("edge").Parse(receiverYAML + `exporters:
  zitadeltelemetry/first:
    endpoint: {{.FirstHop}}/api/ping
    bulk_size: 100
  zitadeltelemetry/central:
    endpoint: {{.Central}}
    protocol: {{.Protocol}}
    bulk_size: 100
{{- if eq .Protocol "grpc"}}
    grpc:
      tls:
        insecure: true
{{- end}}
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [zitadeltelemetry/first, zitadeltelemetry/central]
`))

type edgeValues struct {
	Interval                                          time.Duration
	ZitadelAddr, KeyFile, FirstHop, Central, Protocol string
	TelemetryPort                                     string // serves the collector's own metrics, or ""
}

// chain is zitadel receiver -> zitadeltelemetry exporter -> zitadeltelemetry
// receiver -> zitadeltelemetry exporter: the edge collector scrapes the fake
// ZITADEL and sends its report to the first hop (a reference endpoint) and to
// the central collector, which sends it on to the last.
type chain struct {
	dataset     *fakezitadel.Dataset
	first, last *telemetryserver.Server
	edge        *collector
	central     *centralCollector
}

// chainOptions say how the edge reaches the central collector and where
// each serves its own metrics ("" for none).
type chainOptions struct {
	protocol              string
	edgePort, centralPort string
}

func startChain(t *testing.T, opts chainOptions) *chain {
	t.Helper()
	dir := t.TempDir()
	zitadel, keyFile := startZitadel(t, dir, 20, fakezitadel.Options{})
	c := &chain{
		dataset: zitadel.Dataset(),
		first:   telemetryserver.New(telemetryserver.Options{}), last: telemetryserver.New(telemetryserver.Options{}),
	}
	for _, s := range []*telemetryserver.Server{c.first, c.last} {
		require.NoError(t, s.Start("127.0.0.1:0", ""))
		t.Cleanup(func() { s.Close() })
	}
	c.central = startCentral(t, centralValues{Telemetry: c.last.HTTPURL(), TelemetryPort: opts.centralPort})
	target := c.central.endpoint()
	if opts.protocol == "grpc" {
		target = c.central.values.GRPCAddr
	}
	path := filepath.Join(dir, "edge.yaml")
	writeConfig(t, path, edgeTemplate, edgeValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile,
		FirstHop: c.first.HTTPURL(), Central: target, Protocol: opts.protocol, TelemetryPort: opts.edgePort,
	})
	c.edge = startCollector(t, collectorBinary(t), path)
	return c
}

// waitForReports waits until both endpoints hold every row of the dataset.
func (c *chain) waitForReports(t *testing.T) {
	t.Helper()
	want := len(c.dataset.ExpectedReported())
	waitForRows(t, c.first, c.edge, want)
	waitForRows(t, c.last, c.central.collector, want)
}

func (c *chain) terminate(t *testing.T) {
	t.Helper()
	require.NoError(t, c.edge.terminate(15*time.Second))
	require.NoError(t, c.central.terminate(15*time.Second))
}

// TestReportsSurviveTwoCollectors: the chain sends the report of the first
// hop, every field equal but the rows' updated_at: that is when each hop
// observed the count.
func TestReportsSurviveTwoCollectors(t *testing.T) {
	for _, protocol := range []string{"http", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			c := startChain(t, chainOptions{protocol: protocol})
			c.waitForReports(t)

			firstBase, firstRows, firstPages := reportOf(t, c.first)
			lastBase, lastRows, lastPages := reportOf(t, c.last)
			assert.True(t, proto.Equal(firstBase, lastBase), "base information differs:\nfirst %v\nlast  %v", firstBase, lastBase)
			assert.Equal(t, firstPages, lastPages, "pages")
			require.Len(t, lastRows, len(firstRows))
			for i := range firstRows {
				a, b := proto.Clone(firstRows[i]).(*analytics.ResourceCount), proto.Clone(lastRows[i]).(*analytics.ResourceCount)
				require.NotNil(t, b.UpdatedAt)
				assert.False(t, b.UpdatedAt.AsTime().Before(a.UpdatedAt.AsTime()), "the last hop observed row %d before the first", i)
				a.UpdatedAt, b.UpdatedAt = nil, nil
				require.True(t, proto.Equal(a, b), "row %d differs:\nfirst %v\nlast  %v", i, a, b)
			}
			c.terminate(t)
		})
	}
}

func waitForRows(t *testing.T, s *telemetryserver.Server, c *collector, want int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if snap, ok := s.Snapshot(systemID); ok && len(snap.Rows) >= want {
			return
		}
		if !c.running() {
			t.Fatalf("collector exited: %v", c.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d rows arrived in 90s", want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reportOf returns the one report an endpoint received: its base
// information, its rows in order, and the number of pages.
func reportOf(t *testing.T, s *telemetryserver.Server) (*analytics.ReportBaseInformationRequest, []*analytics.ResourceCount, int) {
	t.Helper()
	var base *analytics.ReportBaseInformationRequest
	var rows []*analytics.ResourceCount
	pages := 0
	for _, r := range s.Requests() {
		require.Equal(t, codes.OK, r.Code)
		if r.Method == telemetryserver.MethodBase {
			require.Nil(t, base, "more than one report arrived")
			base = r.Base
			continue
		}
		pages++
		rows = append(rows, r.Counts.ResourceCounts...)
	}
	require.NotNil(t, base)
	return base, rows, pages
}
