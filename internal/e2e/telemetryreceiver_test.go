package e2e

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
)

const pathSecret = "e2e-path-secret-0123456789"

// otlpSink is an OTLP/HTTP metrics endpoint that keeps what arrives.
type otlpSink struct {
	mu      sync.Mutex
	metrics []pmetric.Metrics
	points  int
	url     string
}

func startOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	s := &otlpSink{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := pmetricotlp.NewExportRequest()
		if !readOTLP(w, r, req.UnmarshalProto) {
			return
		}
		s.mu.Lock()
		s.metrics = append(s.metrics, req.Metrics())
		s.points += req.Metrics().DataPointCount()
		s.mu.Unlock()
		out, _ := pmetricotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	s.url = "http://" + ln.Addr().String()
	return s
}

func (s *otlpSink) snapshot() ([]pmetric.Metrics, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pmetric.Metrics(nil), s.metrics...), s.points
}

func (s *otlpSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics, s.points = nil, 0
}

// waitForPoints waits until the sink holds n data points, or fails.
func (s *otlpSink) waitForPoints(t *testing.T, c *collector, n int) []pmetric.Metrics {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		all, points := s.snapshot()
		if points >= n {
			return all
		}
		if !c.running() {
			t.Fatalf("collector exited: %v", c.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sink holds %d data points after 60s, want %d", points, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var centralTemplate = template.Must(template.New("central").Parse(`
receivers:
  zitadeltelemetry:
    http:
      endpoint: {{.HTTPAddr}}
      path: /zitadel/ping
      path_secret: ` + pathSecret + `
    grpc:
      endpoint: {{.GRPCAddr}}
    report_ids:
      key: e2e-report-key-shared-by-every-replica
processors:
  batch:
    timeout: 2s
    send_batch_size: 1000000
exporters:
{{- if .OTLP}}
  otlp_http:
    endpoint: {{.OTLP}}
    compression: none
{{- end}}
{{- if .Telemetry}}
  zitadeltelemetry:
    endpoint: {{.Telemetry}}/api/ping
    bulk_size: 100
{{- end}}
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadeltelemetry]
{{- if .Telemetry}}
      processors: [batch]
      exporters: [zitadeltelemetry]
{{- else}}
      exporters: [otlp_http]
{{- end}}
`))

type centralValues struct {
	HTTPAddr, GRPCAddr string
	OTLP               string // otlp_http endpoint, or ""
	Telemetry          string // reference endpoint for a zitadeltelemetry exporter, or ""
	TelemetryPort      string // serves the collector's own metrics, or ""
}

// centralCollector is an otelcol-zitadel with the zitadeltelemetry receiver.
type centralCollector struct {
	*collector
	values centralValues
}

func startCentral(t *testing.T, v centralValues) *centralCollector {
	t.Helper()
	v.HTTPAddr, v.GRPCAddr = freeAddr(t), freeAddr(t)
	path := filepath.Join(t.TempDir(), "central.yaml")
	writeConfig(t, path, centralTemplate, v)
	c := &centralCollector{collector: startCollector(t, collectorBinary(t), path), values: v}
	for _, addr := range []string{v.HTTPAddr, v.GRPCAddr} {
		waitForListener(t, c.collector, addr)
	}
	return c
}

func waitForListener(t testing.TB, c *collector, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return
		}
		if !c.running() || time.Now().After(deadline) {
			t.Fatalf("collector does not listen on %s: %v", addr, c.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// endpoint is what an operator sets as ZITADEL's ServicePing.Endpoint.
func (c *centralCollector) endpoint() string {
	return "http://" + c.values.HTTPAddr + "/zitadel/ping/" + pathSecret
}

func newHTTPClient(t *testing.T) *http.Client {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return client
}

// TestCollectorReceivesZITADELServicePing sends a report of several
// instances and thousands of rows the way ZITADEL does, then over Connect
// and gRPC, to the built collector; what it exports over OTLP is the report.
func TestCollectorReceivesZITADELServicePing(t *testing.T) {
	sink := startOTLPSink(t)
	c := startCentral(t, centralValues{OTLP: sink.url})
	base, rows := contracttest.Report("e2e-ping-system", 6, 300)
	require.Greater(t, len(rows), 5000)
	want := len(rows) + len(base.Instances)

	send := func(t *testing.T, client telemetryclient.Client) {
		resp, err := client.ReportBaseInformation(context.Background(), base)
		require.NoError(t, err)
		id := resp.GetReportId()
		for start := 0; start < len(rows); start += 1000 {
			_, err := client.ReportResourceCounts(context.Background(), &analytics.ReportResourceCountsRequest{
				SystemId: base.SystemId, ReportId: &id, ResourceCounts: rows[start:min(start+1000, len(rows))],
			})
			require.NoError(t, err)
		}
	}
	t.Run("zitadel", func(t *testing.T) {
		sink.reset()
		ping := &servicepingclient.Client{Endpoint: c.endpoint(), HTTP: newHTTPClient(t)}
		require.NoError(t, ping.Report(context.Background(), base, rows, 1000))
		contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.waitForPoints(t, c.collector, want)), base, rows, false)
	})
	t.Run("connect", func(t *testing.T) {
		sink.reset()
		send(t, telemetryclient.NewHTTP(newHTTPClient(t), c.endpoint(), telemetryclient.PathsConnect))
		contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.waitForPoints(t, c.collector, want)), base, rows, false)
	})
	t.Run("grpc", func(t *testing.T) {
		sink.reset()
		conn, err := grpc.NewClient(c.values.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		send(t, telemetryclient.NewGRPC(conn))
		contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.waitForPoints(t, c.collector, want)), base, rows, false)
	})
	t.Run("wrong secret", func(t *testing.T) {
		sink.reset()
		ping := &servicepingclient.Client{Endpoint: "http://" + c.values.HTTPAddr + "/zitadel/ping/not-the-secret-at-all", HTTP: newHTTPClient(t)}
		err := ping.Report(context.Background(), base, rows, 1000)
		require.True(t, servicepingclient.Cancels(err), "%v", err)
		require.Contains(t, err.Error(), "404")
		_, points := sink.snapshot()
		require.Zero(t, points)
	})
	require.NoError(t, c.terminate(15*time.Second))
}

// readOTLP decodes an OTLP/HTTP protobuf body, gzip-compressed or not, with
// unmarshal; a body it cannot read is answered 400.
func readOTLP(w http.ResponseWriter, r *http.Request, unmarshal func([]byte) error) bool {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err == nil {
		err = unmarshal(raw)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
