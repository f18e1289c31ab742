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

// TestReportsSurviveTwoCollectors: zitadel receiver -> zitadeltelemetry
// exporter -> zitadeltelemetry receiver -> zitadeltelemetry exporter sends
// the report of the first hop, every field equal but the rows' updated_at:
// that is when each hop observed the count.
func TestReportsSurviveTwoCollectors(t *testing.T) {
	for _, protocol := range []string{"http", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			dir := t.TempDir()
			zitadel, keyFile := startZitadel(t, dir, 20, fakezitadel.Options{})
			ds := zitadel.Dataset()
			first, last := telemetryserver.New(telemetryserver.Options{}), telemetryserver.New(telemetryserver.Options{})
			for _, s := range []*telemetryserver.Server{first, last} {
				require.NoError(t, s.Start("127.0.0.1:0", ""))
				t.Cleanup(func() { s.Close() })
			}
			central := startCentral(t, centralValues{Telemetry: last.HTTPURL()})
			target := central.endpoint()
			if protocol == "grpc" {
				target = central.values.GRPCAddr
			}
			path := filepath.Join(dir, "edge.yaml")
			writeConfig(t, path, edgeTemplate, edgeValues{Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile,
				FirstHop: first.HTTPURL(), Central: target, Protocol: protocol})
			edge := startCollector(t, collectorBinary(t), path)

			want := len(ds.ExpectedReported())
			waitForRows(t, first, edge, want)
			waitForRows(t, last, central.collector, want)

			firstBase, firstRows, firstPages := reportOf(t, first)
			lastBase, lastRows, lastPages := reportOf(t, last)
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
			require.NoError(t, edge.terminate(15*time.Second))
			require.NoError(t, central.terminate(15*time.Second))
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
