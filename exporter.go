package zitadeltelemetry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/drain"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/health"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/schedule"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelexportermetadata"
)

// newMetricsExporter builds the sender; with a schedule, batches go into a
// snapshot that the schedule sends through it.
func newMetricsExporter(ctx context.Context, set exporter.Settings, cfg component.Config, clk schedule.Clock, rnd *rand.Rand) (exporter.Metrics, error) {
	ec := cfg.(*ExporterConfig)
	e := newTelemetryExporter(ec, set.TelemetrySettings)
	var err error
	if e.metrics, err = newExportMetrics(set.TelemetrySettings, ec.Protocol); err != nil {
		return nil, err
	}
	helper, err := exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(ec.TimeoutConfig),
		exporterhelper.WithRetry(ec.RetryConfig),
		exporterhelper.WithQueue(ec.QueueConfig))
	if err != nil {
		return nil, err
	}
	sender := &stoppableExporter{Metrics: helper, exporter: e}
	if ec.Schedule == "" {
		return sender, nil
	}
	return schedule.New(sender, e, &ec.Config, set, clk, rnd)
}

// stoppableExporter bounds shutdown. exporterhelper first stops retrying,
// then waits for the queue's consumers to finish, and only then calls the
// exporter's own shutdown: a report to an endpoint that never answers would
// hold the collector's stop for the whole timeout and then be dropped anyway.
// After drain.Period (or the shutdown context's end, if sooner) the sends in
// progress are cancelled; since retries have stopped by then, exporterhelper
// takes the failure as interrupted by shutdown, and a persistent queue keeps
// the report for the next start.
type stoppableExporter struct {
	exporter.Metrics
	exporter *telemetryExporter
}

func (s *stoppableExporter) Shutdown(ctx context.Context) error {
	n, err := s.exporter.sends.Shutdown(ctx, s.Metrics.Shutdown)
	if n > 0 {
		kept := "they are lost: configure sending_queue::storage to keep them across restarts"
		if s.exporter.cfg.QueueConfig.HasValue() && s.exporter.cfg.QueueConfig.Get().StorageID != nil {
			kept = "the persistent sending queue keeps them for the next start"
		}
		s.exporter.set.Logger.Warn(fmt.Sprintf("Shutdown interrupted %d report(s) that the endpoint had not taken within %s; %s",
			n, s.exporter.sends.Drain, kept))
	}
	return err
}

// telemetryExporter sends each batch as one report per ZITADEL system.
type telemetryExporter struct {
	cfg     *ExporterConfig
	set     component.TelemetrySettings
	builder *report.Builder
	ids     *idhash.Hasher
	client  telemetryclient.Client
	metrics *exportMetrics
	// pieces notices reports cut into pieces; nil with a schedule.
	pieces *report.PieceDetector
	// link names this exporter's connection in TLS failures.
	link tlshint.Link
	// host takes the exporter's health after each batch.
	host component.Host

	// sends are the reports in progress, which shutdown cuts short.
	sends *drain.Stop
}

func newTelemetryExporter(cfg *ExporterConfig, set component.TelemetrySettings) *telemetryExporter {
	e := &telemetryExporter{
		cfg: cfg, set: set, sends: drain.New(errShutdownReport), ids: idhash.New(cfg.IDHashKey),
		link:    endpointLink(cfg.Protocol),
		builder: report.NewBuilder(cfg.SystemID, cfg.Version, cfg.SendDomains, cfg.SendResources),
	}
	if cfg.Schedule == "" {
		e.pieces = report.NewPieceDetector(time.Now, set.Logger)
	}
	return e
}

func (e *telemetryExporter) start(ctx context.Context, host component.Host) error {
	e.host = host
	switch e.cfg.Protocol {
	case ProtocolGRPC:
		cc := e.cfg.GRPC
		cc.Endpoint = e.cfg.Endpoint
		conn, err := cc.ToClientConn(ctx, host.GetExtensions(), e.set)
		if err != nil {
			return fmt.Errorf("grpc client: %w", err)
		}
		e.client = telemetryclient.NewGRPC(conn)
	default:
		hc := e.cfg.HTTP
		hc.Endpoint = e.cfg.Endpoint
		client, err := hc.ToClient(ctx, host.GetExtensions(), e.set)
		if err != nil {
			return fmt.Errorf("http client: %w", err)
		}
		style := telemetryclient.PathsZITADEL
		if e.cfg.Protocol == ProtocolConnect {
			style = telemetryclient.PathsConnect
		}
		e.client = telemetryclient.NewHTTP(client, e.cfg.endpointWithSecret(), style)
	}
	return nil
}

func (e *telemetryExporter) shutdown(context.Context) error {
	if e.client == nil {
		return nil
	}
	return e.client.Close()
}

// pushMetrics sends one report per system in the batch. A system that fails
// in a way worth retrying is handed back to exporterhelper alone (a retry
// re-sends its whole report, which the endpoint deduplicates); what can never
// succeed is returned as permanent, after everything else was sent. A batch
// that was not sent whole makes the exporter a recoverable error, which
// health_check and zpages show until a batch is sent whole again.
func (e *telemetryExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	err := e.sends.Run(ctx, func(ctx context.Context) error { return e.sendBatch(ctx, md) })
	if !errors.Is(err, errShutdownReport) {
		health.Report(e.host, err)
	}
	return err
}

var errShutdownReport = errors.New("the collector is shutting down: report interrupted")

// Map implements schedule.Reporter: it maps a batch to reports, logging
// and counting what it leaves out.
func (e *telemetryExporter) Map(ctx context.Context, md pmetric.Metrics) *report.Built {
	built := e.builder.Build(md)
	e.logIgnored(built)
	e.metrics.rowsLeftOut(ctx, built)
	return built
}

// Sends implements schedule.Reporter.
func (e *telemetryExporter) Sends() *drain.Stop { return e.sends }

func (e *telemetryExporter) sendBatch(ctx context.Context, md pmetric.Metrics) error {
	built := e.Map(ctx, md)
	defer built.Release()
	if e.pieces != nil {
		e.pieces.Observe(built.Systems())
	}

	permanent := built.Errors()
	var retryable []error
	var retryResources []int
	for _, sr := range built.Systems() {
		sr.HashIDs(e.ids)
		err := tlshint.Explain(e.sendReport(ctx, sr), e.link)
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
		default:
			retryable = append(retryable, err)
			retryResources = append(retryResources, sr.Resources()...)
		}
	}
	if len(retryable) > 0 {
		// A permanent error in the chain would stop the retry of the others.
		for _, err := range permanent {
			e.set.Logger.Error("Dropping what cannot be sent", zap.Error(err))
		}
		return consumererror.NewMetrics(errors.Join(retryable...), subsetOf(md, retryResources))
	}
	return errors.Join(permanent...)
}

func (e *telemetryExporter) logIgnored(built *report.Built) {
	if built.Ignored().Count() > 0 {
		e.set.Logger.Debug("Ignoring metrics outside the ZITADEL metric contract",
			zap.Int("metrics", built.Ignored().Count()), zap.Strings("names", built.Ignored().Listed()))
	}
}

// sendReport sends a system's report. When the endpoint no longer knows the
// report id (FAILED_PRECONDITION, HTTP 412), the report starts over once with
// a fresh base information; a second refusal is permanent.
func (e *telemetryExporter) sendReport(ctx context.Context, sr *report.System) error {
	expired, err := e.sendOnce(ctx, sr)
	if !expired {
		return err
	}
	e.set.Logger.Info("Report id refused; starting the report over", zap.String("system_id", sr.SystemID()), zap.Error(err))
	e.metrics.reportRestarted(ctx)
	if expired, err = e.sendOnce(ctx, sr); expired {
		return consumererror.NewPermanent(fmt.Errorf("the report id was refused again after a fresh ReportBaseInformation: %w", err))
	}
	return err
}

// sendOnce sends the base information and every page. expired says the
// endpoint refused the report id of a page.
func (e *telemetryExporter) sendOnce(ctx context.Context, sr *report.System) (expired bool, err error) {
	resp, err := e.client.ReportBaseInformation(ctx, sr.Base())
	if err != nil {
		return false, fmt.Errorf("system %s: ReportBaseInformation: %w", sr.SystemID(), err)
	}
	reportID := resp.GetReportId()
	pages := sr.Pages(e.cfg.BulkSize)
	for i, page := range pages {
		if err := fieldshape.CheckReportID(reportID); err != nil {
			return false, fmt.Errorf("system %s: %w", sr.SystemID(), err)
		}
		req := &analytics.ReportResourceCountsRequest{SystemId: sr.Base().SystemId, ResourceCounts: page}
		if reportID != "" {
			req.ReportId = &reportID
		}
		resp, err := e.client.ReportResourceCounts(ctx, req)
		if err != nil {
			return telemetryclient.IsReportExpired(err),
				fmt.Errorf("system %s: ReportResourceCounts page %d of %d: %w", sr.SystemID(), i+1, len(pages), err)
		}
		e.metrics.pageSent(ctx, len(page))
		if next := resp.GetReportId(); next != "" {
			reportID = next
		}
	}
	e.metrics.reportSent(ctx)
	return false, nil
}

// subsetOf returns the resources of md at the given indexes.
func subsetOf(md pmetric.Metrics, resources []int) pmetric.Metrics {
	if len(resources) == md.ResourceMetrics().Len() {
		return md
	}
	slices.Sort(resources)
	out := pmetric.NewMetrics()
	for _, i := range resources {
		md.ResourceMetrics().At(i).CopyTo(out.ResourceMetrics().AppendEmpty())
	}
	return out
}

// exportMetrics counts what the exporter sent: a report is counted once its
// last page was taken, pages and rows as each page is taken, so rows equals
// what the endpoint acknowledged, re-sent pages included.
type exportMetrics struct {
	protocol metric.MeasurementOption
	own      *zitadelexportermetadata.TelemetryBuilder
}

func newExportMetrics(set component.TelemetrySettings, protocol string) (*exportMetrics, error) {
	own, err := zitadelexportermetadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &exportMetrics{protocol: metric.WithAttributeSet(attribute.NewSet(attribute.String("protocol", protocol))), own: own}, nil
}

func (m *exportMetrics) pageSent(ctx context.Context, rows int) {
	ctx = context.WithoutCancel(ctx)
	m.own.ZitadeltelemetryExporterPages.Add(ctx, 1, m.protocol)
	m.own.ZitadeltelemetryExporterRows.Add(ctx, int64(rows), m.protocol)
}

func (m *exportMetrics) reportSent(ctx context.Context) {
	m.own.ZitadeltelemetryExporterReports.Add(context.WithoutCancel(ctx), 1, m.protocol)
}

func (m *exportMetrics) reportRestarted(ctx context.Context) {
	m.own.ZitadeltelemetryExporterReportRestarts.Add(context.WithoutCancel(ctx), 1, m.protocol)
}

func (m *exportMetrics) rowsLeftOut(ctx context.Context, built *report.Built) {
	for reason, n := range built.LeftOut() {
		if n > 0 {
			m.own.ZitadeltelemetryExporterRowsLeftOut.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(attribute.String("reason", report.LeftOutNames[reason])))
		}
	}
}

// endpointLink says how to fix a TLS failure of the connection to the
// telemetry endpoint, in the keys of the protocol's client block.
func endpointLink(protocol string) tlshint.Link {
	block, plaintext := "http", "use an http:// endpoint for an endpoint without TLS, or the endpoint's TLS port"
	if protocol == ProtocolGRPC {
		block, plaintext = "grpc", "set grpc::tls::insecure: true for an endpoint without TLS, or use its TLS port"
	}
	return tlshint.Link{
		Name:       "the telemetry endpoint",
		UnknownCA:  "set " + block + "::tls::ca_file to the CA that issued its certificate",
		WrongHost:  "set endpoint to a name its certificate holds, or " + block + "::tls::server_name_override",
		Plaintext:  plaintext,
		ClientCert: "set " + block + "::tls::cert_file and " + block + "::tls::key_file to a certificate it trusts",
	}
}
