package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// kubernetesGrace is Kubernetes' default terminationGracePeriodSeconds: a
// collector still running after it is killed.
const kubernetesGrace = 30 * time.Second

var shutdownConfig = template.Must(template.New("shutdown").Parse(receiverYAML + `extensions:
  file_storage:
    directory: {{.StorageDir}}
exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    sending_queue:
      storage: file_storage
    retry_on_failure:
      initial_interval: 200ms
      max_interval: 1s
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [zitadeltelemetry]
`))

type shutdownValues struct {
	Interval                                       time.Duration
	ZitadelAddr, KeyFile, StorageDir, TelemetryURL string
}

// stopTimed sends SIGTERM and returns how long the collector took to exit.
func stopTimed(t *testing.T, c *collector) time.Duration {
	t.Helper()
	start := time.Now()
	if err := c.terminate(kubernetesGrace); err != nil {
		t.Fatalf("collector did not exit within %s of SIGTERM: %v", kubernetesGrace, err)
	}
	return time.Since(start)
}

// TestSIGTERMWithASilentEndpointKeepsTheReport stops the collector while its
// report hangs on an endpoint that never answers: the stop is prompt, the log
// says once what was interrupted, and the persistent queue delivers the report
// after a restart, from storage alone (ZITADEL is gone by then).
func TestSIGTERMWithASilentEndpointKeepsTheReport(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	storage := filepath.Join(dir, "queue")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	zitadel, keyFile := startZitadel(t, dir, 20, fakezitadel.Options{})
	p := &pipeline{dataset: zitadel.Dataset()}

	silentURL, requests := faults.SilentEndpoint(t)
	first := filepath.Join(dir, "first.yaml")
	writeConfig(t, first, shutdownConfig, shutdownValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile,
		StorageDir: storage, TelemetryURL: silentURL,
	})
	c := startCollector(t, bin, first)
	select {
	case <-requests:
	case <-time.After(90 * time.Second):
		t.Fatalf("the report never reached the endpoint:\n%s", c.out.String())
	}
	took := stopTimed(t, c)
	t.Logf("SIGTERM to exit with a report hanging on the endpoint: %s", took)
	if !c.out.Contains("Shutdown interrupted 1 report(s)") || !c.out.Contains("the persistent sending queue keeps them") {
		t.Errorf("the log does not say what shutdown interrupted:\n%s", c.out.String())
	}

	zitadel.Close()
	p.telemetry = telemetryserver.New(telemetryserver.Options{})
	if err := p.telemetry.Start("127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.telemetry.Close() })
	second := filepath.Join(dir, "second.yaml")
	writeConfig(t, second, shutdownConfig, shutdownValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile,
		StorageDir: storage, TelemetryURL: p.telemetry.HTTPURL(),
	})
	p.collector = startCollector(t, bin, second)
	p.assertReportEqualsDataset(t, p.waitForCompleteReport(t, 90*time.Second))
	stopTimed(t, p.collector)
}

// TestSIGTERMWithASilentZitadel stops the collector while a scrape waits on a
// ZITADEL that never answers: the stop does not wait for the request timeout.
func TestSIGTERMWithASilentZitadel(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	zitadel, keyFile := startZitadel(t, dir, 20, fakezitadel.Options{})
	zitadel.SetLatency(time.Hour)
	telemetry := telemetryserver.New(telemetryserver.Options{})
	if err := telemetry.Start("127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { telemetry.Close() })
	config := filepath.Join(dir, "config.yaml")
	writeConfig(t, config, shutdownConfig, shutdownValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile,
		StorageDir: dir, TelemetryURL: telemetry.HTTPURL(),
	})
	c := startCollector(t, bin, config)
	deadline := time.Now().Add(60 * time.Second)
	for zitadel.TotalCalls() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver never called ZITADEL:\n%s", c.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("SIGTERM to exit with a scrape hanging on ZITADEL: %s", stopTimed(t, c))
	if _, ok := telemetry.Snapshot(systemID); ok {
		t.Error("a cut scrape was reported")
	}
}
