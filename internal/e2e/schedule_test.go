package e2e

import (
	"fmt"
	"testing"
	"text/template"
	"time"
)

// batchedTemplate puts a batch processor that cuts every scrape into pieces
// of at most 500 counts before the exporter; with a schedule, the exporter
// reports once a day at the given minute, and once more on shutdown.
var batchedTemplate = template.Must(template.New("batched").Parse(receiverYAML + `processors:
  batch:
    send_batch_size: 500
    send_batch_max_size: 500
exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
{{- if .Schedule}}
    schedule: "{{.Schedule}}"
    send_on_shutdown: true
{{- end}}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [zitadel]
      processors: [batch]
      exporters: [zitadeltelemetry]
`))

// batchedOrgs gives the dataset well over 500 counts, so every scrape is cut.
const batchedOrgs = 100

// nextMinute is the first minute that starts at least lead from now: a
// daily cron expression for it runs once, soon, and satisfies the 30-minute
// rule as any daily run does.
func nextMinute(lead time.Duration) time.Time {
	return time.Now().UTC().Add(lead).Truncate(time.Minute).Add(time.Minute)
}

// TestScheduledReportIsWholeBehindABatchProcessor runs the built collector
// with a batch processor that splits every scrape: at the scheduled minute
// exactly one complete report arrives, however many pieces and scrapes came
// before it, and a clean stop sends exactly one more.
func TestScheduledReportIsWholeBehindABatchProcessor(t *testing.T) {
	at := nextMinute(30 * time.Second)
	p := startPipelineWith(t, pipelineOptions{
		config: batchedTemplate, orgsPerInstance: batchedOrgs,
		values: configValues{Interval: time.Minute, Schedule: fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())},
	})
	if n := len(p.dataset.ExpectedCounts()); n <= 1000 {
		t.Fatalf("the dataset has %d counts; more than two pieces of 500 are needed to prove anything", n)
	}

	// Until the scheduled minute the collector scrapes and sends nothing.
	for time.Until(at) > time.Second {
		if _, ok := p.telemetry.Snapshot(systemID); ok {
			t.Fatalf("a report arrived at %s, before the scheduled %s", time.Now().UTC(), at)
		}
		if !p.collector.running() {
			t.Fatalf("collector exited: %v", p.collector.err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !p.collector.out.Contains(`"schedule": "` + fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())) {
		t.Error("the collector log does not say when reports are sent")
	}

	snap := p.waitForCompleteReport(t, 90*time.Second)
	p.assertReportEqualsDataset(t, snap)
	if snap.Reports != 1 {
		t.Errorf("%d reports at the scheduled minute, want exactly 1", snap.Reports)
	}

	if err := p.collector.terminate(30 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
	snap, _ = p.telemetry.Snapshot(systemID)
	if snap.Reports != 2 {
		t.Errorf("%d reports after a clean stop with send_on_shutdown, want exactly 2", snap.Reports)
	}
	p.assertReportEqualsDataset(t, snap)
}

// TestWithoutScheduleABatchProcessorSplitsTheReport is the same pipeline
// without a schedule: each piece is a report of its own, and the log says
// what to do about it.
func TestWithoutScheduleABatchProcessorSplitsTheReport(t *testing.T) {
	p := startPipelineWith(t, pipelineOptions{
		config: batchedTemplate, orgsPerInstance: batchedOrgs,
		values: configValues{Interval: time.Hour},
	})
	snap := p.waitForCompleteReport(t, 90*time.Second)
	p.assertReportEqualsDataset(t, snap)
	pieces := (len(p.dataset.ExpectedCounts()) + 499) / 500
	if snap.Reports < pieces {
		t.Errorf("%d reports for one scrape in %d pieces: the batch processor did not split it", snap.Reports, pieces)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !p.collector.out.Contains("Set the exporter's schedule") {
		if time.Now().After(deadline) {
			t.Fatal("no warning about the split report in the collector log")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.collector.terminate(30 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
}
