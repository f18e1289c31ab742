package zitadeltelemetry

import (
	"context"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the `zitadeltelemetry` exporter's own metrics; the collector's
// Prometheus endpoint adds _total.
const (
	metricExporterReports        = "otelcol_zitadeltelemetry_exporter_reports"
	metricExporterPages          = "otelcol_zitadeltelemetry_exporter_pages"
	metricExporterRows           = "otelcol_zitadeltelemetry_exporter_rows"
	metricExporterRowsLeftOut    = "otelcol_zitadeltelemetry_exporter_rows_left_out"
	metricExporterReportRestarts = "otelcol_zitadeltelemetry_exporter_report_restarts"
)

// exportMetrics counts what the exporter sent: a report is counted once its
// last page was taken, pages and rows as each page is taken, so rows equals
// what the endpoint acknowledged, re-sent pages included.
type exportMetrics struct {
	protocol metric.MeasurementOption
	reports  metric.Int64Counter
	pages    metric.Int64Counter
	rows     metric.Int64Counter
	leftOut  metric.Int64Counter
	restarts metric.Int64Counter
}

func newExportMetrics(set component.TelemetrySettings, protocol string) (*exportMetrics, error) {
	em := exportMetrics{protocol: metric.WithAttributeSet(attribute.NewSet(attribute.String("protocol", protocol)))}
	err := newCounters(set, []counterSpec{
		{&em.reports, metricExporterReports, "{report}", "Reports the zitadeltelemetry exporter completed (base information and every page taken), by protocol."},
		{&em.pages, metricExporterPages, "{page}", "ReportResourceCounts pages the endpoint took, by protocol."},
		{&em.rows, metricExporterRows, "{row}", "Resource count rows in the pages the endpoint took, re-sent ones included, by protocol."},
		{&em.leftOut, metricExporterRowsLeftOut, "{row}", "Rows of zitadel.resource.count left out of the reports, by reason (withheld, invalid, no_system_id, no_instance)."},
		{&em.restarts, metricExporterReportRestarts, "{report}", "Reports started over after the endpoint refused the report id (FAILED_PRECONDITION, HTTP 412), by protocol."},
	})
	if err != nil {
		return nil, err
	}
	return &em, nil
}

func (m *exportMetrics) pageSent(ctx context.Context, rows int) {
	ctx = context.WithoutCancel(ctx)
	m.pages.Add(ctx, 1, m.protocol)
	m.rows.Add(ctx, int64(rows), m.protocol)
}

func (m *exportMetrics) reportSent(ctx context.Context) {
	m.reports.Add(context.WithoutCancel(ctx), 1, m.protocol)
}

func (m *exportMetrics) reportRestarted(ctx context.Context) {
	m.restarts.Add(context.WithoutCancel(ctx), 1, m.protocol)
}

func (m *exportMetrics) rowsLeftOut(ctx context.Context, built *report.Built) {
	for reason, n := range built.LeftOut() {
		if n > 0 {
			m.leftOut.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(attribute.String("reason", report.LeftOutNames[reason])))
		}
	}
}
