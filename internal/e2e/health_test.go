package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// healthTemplate scrapes a ZITADEL and one that is not there, and reports
// through a queue that retries, with health_check serving each component's
// status.
var healthTemplate = template.Must(template.New("health").Parse(receiverYAML + `  zitadel/gone:
    collection_interval: 1h
    initial_delay: 0s
    api:
      endpoint: {{.GoneAddr}}
      tls:
        insecure: true
      token: unused
      retry:
        max_retries: 0
exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
extensions:
  health_check:
    http:
      endpoint: {{.HealthAddr}}
      status:
        enabled: true
        path: /status
    component_health:
      include_recoverable_errors: true
      recovery_duration: 1ms
service:
  extensions: [health_check]
  pipelines:
    metrics:
      receivers: [zitadel, zitadel/gone]
      exporters: [zitadeltelemetry]
`))

type healthValues struct {
	Interval                                                 time.Duration
	ZitadelAddr, KeyFile, TelemetryURL, GoneAddr, HealthAddr string
}

// TestHealthShowsFailingScrapesAndReports runs the built collector with
// health_check on component status: a receiver whose ZITADEL is not there
// is a recoverable error with the scrape's error, beside one that scrapes;
// an endpoint refusing the report makes the exporter a recoverable error,
// until the retry it takes makes it OK.
func TestHealthShowsFailingScrapesAndReports(t *testing.T) {
	dir := t.TempDir()
	zitadel, keyFile := startZitadel(t, dir, 2, fakezitadel.Options{})
	endpoint := telemetryserver.New(telemetryserver.Options{})
	endpoint.Fail(1_000_000, codes.Unavailable)
	require.NoError(t, endpoint.Start("127.0.0.1:0", ""))
	t.Cleanup(func() { endpoint.Close() })
	v := healthValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile, TelemetryURL: endpoint.HTTPURL(),
		GoneAddr: freeAddr(t), HealthAddr: freeAddr(t),
	}
	path := filepath.Join(dir, "health.yaml")
	writeConfig(t, path, healthTemplate, v)
	c := startCollector(t, collectorBinary(t), path, "--feature-gates=+extension.healthcheck.useComponentStatus")
	status := "http://" + v.HealthAddr + "/status?verbose"

	h := waitForHealth(t, c, status, "receiver:zitadel/gone", "StatusRecoverableError")
	require.Contains(t, h.component("receiver:zitadel/gone").Error, "Unavailable")
	h = waitForHealth(t, c, status, "exporter:zitadeltelemetry", "StatusRecoverableError")
	require.Contains(t, h.component("exporter:zitadeltelemetry").Error, "HTTP 503 (UNAVAILABLE)")
	require.Equal(t, "StatusOK", h.component("receiver:zitadel").Status)
	require.False(t, h.Healthy)

	endpoint.Fail(0, codes.OK)
	waitForHealth(t, c, status, "exporter:zitadeltelemetry", "StatusOK")
	require.NoError(t, c.terminate(15*time.Second))
}

// componentHealth is one node of health_check's verbose status.
type componentHealth struct {
	Healthy    bool                       `json:"healthy"`
	Status     string                     `json:"status"`
	Error      string                     `json:"error"`
	Components map[string]componentHealth `json:"components"`
}

// component finds a component's status in the metrics pipeline.
func (h componentHealth) component(id string) componentHealth {
	return h.Components["pipeline:metrics"].Components[id]
}

// waitForHealth reads the status until the component has the status.
func waitForHealth(t *testing.T, c *collector, url, id, status string) componentHealth {
	t.Helper()
	var h componentHealth
	waitUntil(t, 60*time.Second, id+" is "+status, func() (bool, string) {
		var err error
		h, err = readHealth(url)
		return err == nil && h.component(id).Status == status, fmt.Sprintf("%+v (%v)", h, err)
	}, c)
	return h
}

func readHealth(url string) (componentHealth, error) {
	var h componentHealth
	resp, err := http.Get(url)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}
