// Package e2e runs the built otelcol-zitadel as a child process against the
// fake ZITADEL API and the reference telemetry endpoint on loopback.
package e2e

import (
	"crypto/rsa"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

const (
	systemID   = "e2e-system"
	systemUser = "otelcol-e2e"
)

// receiverYAML is the receiver every run scrapes the fake ZITADEL with.
const receiverYAML = `
receivers:
  zitadel:
    collection_interval: {{.Interval}}
    initial_delay: 0s
    system_id: ` + systemID + `
    api:
      endpoint: {{.ZitadelAddr}}
      tls:
        insecure: true
      system_user:
        user_id: ` + systemUser + `
        key_file: {{.KeyFile}}
      instances:
        discover: true
      incremental: true
`

var configTemplate = template.Must(template.New("config").Parse(receiverYAML + `exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    bulk_size: {{.BulkSize}}
    retry_on_failure:
      initial_interval: 200ms
      max_interval: 1s
      max_elapsed_time: 2m
  prometheus:
    endpoint: {{.PromAddr}}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [zitadeltelemetry, prometheus]
`))

type configValues struct {
	Interval     time.Duration
	ZitadelAddr  string
	KeyFile      string
	TelemetryURL string
	BulkSize     int
	PromAddr     string
	Schedule     string
	// TelemetryPort serves the collector's own metrics, where a run reads them.
	TelemetryPort string
}

// pipelineOptions describe a run; startPipeline fills in the addresses.
type pipelineOptions struct {
	config           *template.Template
	values           configValues
	orgsPerInstance  int
	configure        func(*telemetryserver.Server)
	configureZitadel func(*fakezitadel.Server)
}

// pipeline is one run: the fake ZITADEL, the telemetry endpoint and the
// collector between them.
type pipeline struct {
	dataset   *fakezitadel.Dataset
	telemetry *telemetryserver.Server
	collector *collector
	promAddr  string
	// zitadel and configPath let a run change the installation and restart
	// the collector.
	zitadel    *fakezitadel.Server
	configPath string
	// activity is what the simulated ZITADEL's events hold, by instance,
	// where a run wrote sample activity.
	activity map[string]fakezitadel.SampleActivity
}

func startPipeline(t *testing.T, interval time.Duration, bulkSize int, configure func(*telemetryserver.Server)) *pipeline {
	t.Helper()
	return startPipelineWith(t, pipelineOptions{
		config: configTemplate, orgsPerInstance: 20, configure: configure,
		values: configValues{Interval: interval, BulkSize: bulkSize},
	})
}

func startPipelineWith(t *testing.T, opts pipelineOptions) *pipeline {
	t.Helper()
	configure := opts.configure
	bin := collectorBinary(t)
	dir := t.TempDir()
	zitadel, keyFile := startZitadel(t, dir, opts.orgsPerInstance, fakezitadel.Options{})
	ds := zitadel.Dataset()
	if opts.configureZitadel != nil {
		opts.configureZitadel(zitadel)
	}

	telemetry := telemetryserver.New(telemetryserver.Options{})
	if configure != nil {
		configure(telemetry)
	}
	if err := telemetry.Start("127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { telemetry.Close() })

	p := &pipeline{dataset: ds, telemetry: telemetry, promAddr: freeAddr(t), zitadel: zitadel}
	configPath := filepath.Join(dir, "config.yaml")
	values := opts.values
	values.ZitadelAddr, values.KeyFile, values.TelemetryURL, values.PromAddr = zitadel.GRPCAddr(), keyFile, telemetry.HTTPURL(), p.promAddr
	writeConfig(t, configPath, opts.config, values)
	p.configPath = configPath
	p.collector = startCollector(t, bin, configPath)
	return p
}

// startZitadel serves a simulated installation to the system user whose key
// it writes into dir, and to whatever else opts lets in.
func startZitadel(t *testing.T, dir string, orgsPerInstance int, opts fakezitadel.Options) (*fakezitadel.Server, string) {
	t.Helper()
	spec := fakezitadel.DefaultSpec()
	spec.OrgsPerInstance = orgsPerInstance
	return startZitadelSpec(t, dir, spec, opts)
}

// startZitadelSpec is startZitadel for an installation of any shape.
func startZitadelSpec(t *testing.T, dir string, spec fakezitadel.Spec, opts fakezitadel.Options) (*fakezitadel.Server, string) {
	t.Helper()
	ds := fakezitadel.Generate(spec)
	privatePEM, public, err := fakezitadel.NewSystemUserKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "system-user.pem")
	if err := os.WriteFile(keyFile, privatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	opts.SystemUsers = map[string]*rsa.PublicKey{systemUser: public}
	zitadel := fakezitadel.NewServer(ds, opts)
	if err := zitadel.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zitadel.Close() })
	return zitadel, keyFile
}

// rowKey identifies a count the way the telemetry server deduplicates it.
type rowKey struct {
	instance, parentType, parent, resource string
}

func expectedRows(ds *fakezitadel.Dataset) map[rowKey]uint32 {
	want := map[rowKey]uint32{}
	for _, c := range ds.ExpectedReported() {
		want[rowKey{c.InstanceID, c.ParentType, c.ParentID, c.Resource}] = uint32(c.Amount)
	}
	return want
}

func receivedRows(snap telemetryserver.SystemSnapshot) map[rowKey]uint32 {
	got := map[rowKey]uint32{}
	for _, r := range snap.Rows {
		parent := model.ParentInstance
		if r.ParentType == analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION {
			parent = model.ParentOrganization
		}
		got[rowKey{r.InstanceId, parent, r.ParentId, r.ResourceName}] = r.Amount
	}
	return got
}

// waitForCompleteReport waits until the telemetry endpoint holds as many
// deduplicated rows as the dataset has counts.
func (p *pipeline) waitForCompleteReport(t *testing.T, timeout time.Duration) telemetryserver.SystemSnapshot {
	t.Helper()
	want := len(p.dataset.ExpectedReported())
	deadline := time.Now().Add(timeout)
	for {
		snap, ok := p.telemetry.Snapshot(systemID)
		if ok && len(snap.Rows) >= want && len(snap.Instances) == len(p.dataset.Instances) {
			return snap
		}
		if !p.collector.running() {
			t.Fatalf("collector exited before a complete report arrived: %v", p.collector.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete report after %s: %d of %d rows", timeout, len(snap.Rows), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *pipeline) assertReportEqualsDataset(t *testing.T, snap telemetryserver.SystemSnapshot) {
	t.Helper()
	want, got := expectedRows(p.dataset), receivedRows(snap)
	if len(got) != len(want) {
		t.Errorf("received %d distinct rows, the dataset has %d counts", len(got), len(want))
	}
	for k, amount := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing count %+v", k)
		} else if g != amount {
			t.Errorf("count %+v: received %d, dataset has %d", k, g, amount)
		}
	}
	if snap.Version != p.dataset.Version {
		t.Errorf("version %q, dataset has %q", snap.Version, p.dataset.Version)
	}
	wantInstances := p.dataset.ExpectedInstances()
	if len(snap.Instances) != len(wantInstances) {
		t.Fatalf("received %d instances, the dataset has %d", len(snap.Instances), len(wantInstances))
	}
	byID := map[string]*analytics.InstanceInformation{}
	for _, in := range snap.Instances {
		byID[in.Id] = in
	}
	for _, w := range wantInstances {
		in, ok := byID[w.ID]
		if !ok {
			t.Errorf("instance %s not reported", w.ID)
			continue
		}
		if strings.Join(in.Domains, ",") != strings.Join(w.Domains, ",") {
			t.Errorf("instance %s domains %v, dataset has %v", w.ID, in.Domains, w.Domains)
		}
		if !in.CreatedAt.AsTime().Equal(w.CreatedAt) {
			t.Errorf("instance %s created %s, dataset has %s", w.ID, in.CreatedAt.AsTime(), w.CreatedAt)
		}
	}
}

// TestCollectorReportsTheDataset runs the whole pipeline once and checks the
// report, the Prometheus endpoint and a clean shutdown on SIGTERM.
func TestCollectorReportsTheDataset(t *testing.T) {
	p := startPipeline(t, time.Hour, 100, nil)
	snap := p.waitForCompleteReport(t, 90*time.Second)
	p.assertReportEqualsDataset(t, snap)

	series := prometheusSeries(t, "http://"+p.promAddr+"/metrics")
	if want := len(p.dataset.ExpectedCounts()); series != want {
		t.Errorf("prometheus exposes %d zitadel_resource_count series, want %d", series, want)
	}
	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
	if !p.collector.out.Contains("Shutdown complete") {
		t.Error("collector log lacks \"Shutdown complete\"")
	}
}

// TestCollectorRetriesAcrossAnEndpointOutage stops the telemetry endpoint in
// the middle of a report and starts it again: the exporter's retry delivers the
// whole report, and deduplication leaves every count once.
func TestCollectorRetriesAcrossAnEndpointOutage(t *testing.T) {
	// One scrape only, so the report can only complete through a retry; the
	// latency spreads the report's pages over time so the outage hits mid-report.
	p := startPipeline(t, time.Hour, 25, func(s *telemetryserver.Server) { s.SetLatency(100 * time.Millisecond) })

	deadline := time.Now().Add(60 * time.Second)
	for countRequests(p.telemetry) == 0 {
		if time.Now().After(deadline) || !p.collector.running() {
			t.Fatal("no ReportResourceCounts call arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := strings.TrimPrefix(p.telemetry.HTTPURL(), "http://")
	if err := p.telemetry.Close(); err != nil {
		t.Fatal(err)
	}
	snap, _ := p.telemetry.Snapshot(systemID)
	if len(snap.Rows) >= len(p.dataset.ExpectedReported()) {
		t.Fatal("the report completed before the outage; the test proves nothing")
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.telemetry.Start(addr, ""); err != nil {
		t.Fatalf("restart telemetry endpoint on %s: %v", addr, err)
	}

	snap = p.waitForCompleteReport(t, 90*time.Second)
	p.assertReportEqualsDataset(t, snap)
	if snap.Reports < 2 {
		t.Errorf("%d base reports: the report was not restarted after the outage", snap.Reports)
	}
	if sent, distinct := rowsAccepted(p.telemetry), len(snap.Rows); sent <= distinct {
		t.Errorf("%d rows accepted for %d distinct counts: nothing was re-sent, so deduplication was not exercised", sent, distinct)
	}
	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
}

// rowsAccepted is the number of rows in every successful counts call,
// re-sent ones included.
func rowsAccepted(s *telemetryserver.Server) int {
	_, rows := s.PagesTaken()
	return rows
}

func countRequests(s *telemetryserver.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == telemetryserver.MethodCounts {
			n++
		}
	}
	return n
}

func prometheusSeries(t *testing.T, url string) int {
	t.Helper()
	return scrapeExposition(t, url).count("zitadel_resource_count")
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
