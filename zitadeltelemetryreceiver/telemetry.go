package zitadeltelemetry

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
)

// Names of the `zitadeltelemetry` receiver's own metrics; the collector's
// Prometheus endpoint adds _total. The standard
// otelcol_receiver_accepted_metric_points counts data points, the instances'
// information points included, and nothing for a metric switched off: these
// count what the clients sent.
const (
	metricReceiverAcceptedReports = "otelcol_zitadeltelemetry_receiver_accepted_reports"
	metricReceiverAcceptedPages   = "otelcol_zitadeltelemetry_receiver_accepted_pages"
	metricReceiverAcceptedRows    = "otelcol_zitadeltelemetry_receiver_accepted_rows"
	metricReceiverRefusedCalls    = "otelcol_zitadeltelemetry_receiver_refused_calls"
)

// receiverCalls counts the calls the receiver answered, by wire: a report
// once its base information was taken, a page and its rows once the next
// consumer took them (or nothing was to be emitted).
type receiverCalls struct {
	wires           map[string]metric.MeasurementOption
	reports         metric.Int64Counter
	pages           metric.Int64Counter
	rows            metric.Int64Counter
	refusedByReason metric.Int64Counter
}

func newReceiverCalls(set component.TelemetrySettings) (*receiverCalls, error) {
	c := receiverCalls{wires: make(map[string]metric.MeasurementOption)}
	for _, wire := range telemetryservice.Wires {
		c.wires[wire] = metric.WithAttributeSet(attribute.NewSet(attribute.String("wire", wire)))
	}
	err := newCounters(set, []counterSpec{
		{&c.reports, metricReceiverAcceptedReports, "{report}", "ReportBaseInformation calls the zitadeltelemetry receiver answered with a report id, by wire."},
		{&c.pages, metricReceiverAcceptedPages, "{page}", "ReportResourceCounts calls (pages) the zitadeltelemetry receiver answered with a report id, by wire."},
		{&c.rows, metricReceiverAcceptedRows, "{row}", "Resource count rows in the pages the zitadeltelemetry receiver accepted, by wire."},
		{&c.refusedByReason, metricReceiverRefusedCalls, "{call}", "TelemetryService calls the zitadeltelemetry receiver refused, by wire and reason."},
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *receiverCalls) reportAccepted(ctx context.Context, wire string) {
	c.reports.Add(context.WithoutCancel(ctx), 1, c.wires[wire])
}

func (c *receiverCalls) pageAccepted(ctx context.Context, wire string, rows int) {
	ctx = context.WithoutCancel(ctx)
	c.pages.Add(ctx, 1, c.wires[wire])
	c.rows.Add(ctx, int64(rows), c.wires[wire])
}

func (c *receiverCalls) refused(ctx context.Context, wire, reason string) {
	c.refusedByReason.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("wire", wire), attribute.String("reason", reason)))
}
