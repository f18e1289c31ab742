package e2e

import (
	"testing"
)

// TestTelemetryReceiverCountsItsOwnWork runs the chain of
// TestReportsSurviveTwoCollectors over http with both collectors' own
// metrics on, sends the central collector one page with a report id it did
// not issue, and checks what its zitadeltelemetry receiver counted against
// what the edge collector's exporter sent.
func TestTelemetryReceiverCountsItsOwnWork(t *testing.T) {
	centralOwn, centralPort := ownMetricsPort(t)
	edgeOwn, edgePort := ownMetricsPort(t)
	c := startChain(t, chainOptions{protocol: "http", edgePort: edgePort, centralPort: centralPort})
	c.waitForReports(t)
	// Both exporters of the edge count their report once its last page was
	// taken, after the central collector counted it.
	sent := waitForOwnMetric(t, c.edge, edgeOwn, "otelcol_zitadeltelemetry_exporter_reports", 2, `protocol="http"`)

	refuseUnknownReportID(t, c.central.endpoint())
	got := waitForOwnMetric(t, c.central.collector, centralOwn, "otelcol_zitadeltelemetry_receiver_refused_calls", 1)

	// The edge's two exporters send the same report; what the one to the
	// central collector sent is the edge's total less what the first hop took.
	_, firstRows, firstPages := reportOf(t, c.first)
	expect(t, "accepted reports", got.sum("otelcol_zitadeltelemetry_receiver_accepted_reports", `wire="http"`),
		sent.sum("otelcol_zitadeltelemetry_exporter_reports", `protocol="http"`)-1)
	expect(t, "accepted pages", got.sum("otelcol_zitadeltelemetry_receiver_accepted_pages", `wire="http"`),
		sent.sum("otelcol_zitadeltelemetry_exporter_pages", `protocol="http"`)-float64(firstPages))
	expect(t, "accepted rows", got.sum("otelcol_zitadeltelemetry_receiver_accepted_rows", `wire="http"`),
		sent.sum("otelcol_zitadeltelemetry_exporter_rows", `protocol="http"`)-float64(len(firstRows)))
	expect(t, "accepted rows against the dataset", got.sum("otelcol_zitadeltelemetry_receiver_accepted_rows"), float64(len(c.dataset.ExpectedReported())))
	expect(t, "accepted pages on every wire", got.sum("otelcol_zitadeltelemetry_receiver_accepted_pages"),
		got.sum("otelcol_zitadeltelemetry_receiver_accepted_pages", `wire="http"`))
	expect(t, "refused report ids", got.sum("otelcol_zitadeltelemetry_receiver_refused_calls", `wire="http"`, `reason="report_id"`), 1)
	expect(t, "refused calls", got.sum("otelcol_zitadeltelemetry_receiver_refused_calls"), 1)
	// The standard count has a data point per row and one per instance.
	expect(t, "accepted data points", got.sum("otelcol_receiver_accepted_metric_points", `receiver="zitadeltelemetry"`),
		float64(len(c.dataset.ExpectedReported())+len(c.dataset.ExpectedInstances())))

	c.terminate(t)
}
