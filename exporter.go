package zitadeltelemetry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
)

// defaultReportTimeout bounds one attempt at a batch: every system's base
// information and all its pages, which for a large installation is a hundred
// POSTs of a few MiB each.
const defaultReportTimeout = time.Minute

func createDefaultExporterConfig() component.Config {
	cfg := &ExporterConfig{
		Protocol:      ProtocolHTTP,
		BulkSize:      defaultBulkSize,
		SendDomains:   true,
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: defaultReportTimeout},
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		HTTP:          confighttp.NewDefaultClientConfig(),
		GRPC:          configgrpc.NewDefaultClientConfig(),
	}
	cfg.MaxAge = defaultMaxAge
	return cfg
}

func createMetricsExporter(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	return newMetricsExporter(ctx, set, cfg, systemClock{}, newRandom())
}

// newMetricsExporter builds the sender; with a schedule, batches go into a
// snapshot that the schedule sends through it.
func newMetricsExporter(ctx context.Context, set exporter.Settings, cfg component.Config, clk clock, rnd *rand.Rand) (exporter.Metrics, error) {
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
	return newScheduledExporter(sender, e, set, clk, rnd)
}

// stoppableExporter bounds shutdown. exporterhelper first stops retrying,
// then waits for the queue's consumers to finish, and only then calls the
// exporter's own shutdown: a report to an endpoint that never answers would
// hold the collector's stop for the whole timeout and then be dropped anyway.
// After shutdownDrain (or the shutdown context's end, if sooner) the sends in
// progress are cancelled; since retries have stopped by then, exporterhelper
// takes the failure as interrupted by shutdown, and a persistent queue keeps
// the report for the next start.
type stoppableExporter struct {
	exporter.Metrics
	exporter *telemetryExporter
}

func (s *stoppableExporter) Shutdown(ctx context.Context) error {
	n, err := s.exporter.sends.shutdown(ctx, s.Metrics.Shutdown)
	if n > 0 {
		kept := "they are lost: configure sending_queue::storage to keep them across restarts"
		if s.exporter.cfg.QueueConfig.HasValue() && s.exporter.cfg.QueueConfig.Get().StorageID != nil {
			kept = "the persistent sending queue keeps them for the next start"
		}
		s.exporter.set.Logger.Warn(fmt.Sprintf("Shutdown interrupted %d report(s) that the endpoint had not taken within %s; %s",
			n, s.exporter.sends.drain, kept))
	}
	return err
}

// telemetryExporter sends each batch as one report per ZITADEL system.
type telemetryExporter struct {
	cfg     *ExporterConfig
	set     component.TelemetrySettings
	builder reportBuilder
	ids     *idHasher
	client  telemetryclient.Client
	metrics *exportMetrics
	// pieces notices reports cut into pieces; nil with a schedule.
	pieces *pieceDetector
	// link names this exporter's connection in TLS failures.
	link tlshint.Link

	// sends are the reports in progress, which shutdown cuts short.
	sends *drainingStop
}

func newTelemetryExporter(cfg *ExporterConfig, set component.TelemetrySettings) *telemetryExporter {
	e := &telemetryExporter{cfg: cfg, set: set, sends: newDrainingStop(errShutdownReport), ids: newIDHasher(cfg.IDHashKey),
		link: endpointLink(cfg.Protocol),
		builder: reportBuilder{systemID: cfg.SystemID, version: cfg.Version, sendDomains: cfg.SendDomains,
			withheld: withheldResources(cfg.SendResources)}}
	if cfg.Schedule == "" {
		e.pieces = newPieceDetector(time.Now, set.Logger)
	}
	return e
}

func (e *telemetryExporter) start(ctx context.Context, host component.Host) error {
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
// succeed is returned as permanent, after everything else was sent.
func (e *telemetryExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	return e.sends.run(ctx, func(ctx context.Context) error { return e.sendBatch(ctx, md) })
}

var errShutdownReport = errors.New("the collector is shutting down: report interrupted")

func (e *telemetryExporter) sendBatch(ctx context.Context, md pmetric.Metrics) error {
	built := e.builder.build(md)
	defer built.release()
	e.logIgnored(built)
	e.metrics.rowsLeftOut(ctx, built)
	if e.pieces != nil {
		e.pieces.observe(built.systems)
	}

	permanent := built.errors()
	var retryable []error
	var retryResources []int
	for _, sr := range built.systems {
		e.ids.apply(sr)
		err := tlshint.Explain(e.sendReport(ctx, sr), e.link)
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
		default:
			retryable = append(retryable, err)
			retryResources = append(retryResources, sr.resources...)
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

func (e *telemetryExporter) logIgnored(built *builtReports) {
	if built.ignoredMetrics > 0 {
		e.set.Logger.Debug("Ignoring metrics outside the ZITADEL metric contract",
			zap.Int("metrics", built.ignoredMetrics), zap.Strings("names", built.ignoredNames))
	}
}

// sendReport sends a system's report. When the endpoint no longer knows the
// report id (FAILED_PRECONDITION, HTTP 412), the report starts over once with
// a fresh base information; a second refusal is permanent.
func (e *telemetryExporter) sendReport(ctx context.Context, sr *systemReport) error {
	expired, err := e.sendOnce(ctx, sr)
	if !expired {
		return err
	}
	e.set.Logger.Info("Report id refused; starting the report over", zap.String("system_id", sr.systemID), zap.Error(err))
	e.metrics.reportRestarted(ctx)
	if expired, err = e.sendOnce(ctx, sr); expired {
		return consumererror.NewPermanent(fmt.Errorf("the report id was refused again after a fresh ReportBaseInformation: %w", err))
	}
	return err
}

// sendOnce sends the base information and every page. expired says the
// endpoint refused the report id of a page.
func (e *telemetryExporter) sendOnce(ctx context.Context, sr *systemReport) (expired bool, err error) {
	resp, err := e.client.ReportBaseInformation(ctx, sr.base)
	if err != nil {
		return false, fmt.Errorf("system %s: ReportBaseInformation: %w", sr.systemID, err)
	}
	reportID := resp.GetReportId()
	pages := sr.pages(e.cfg.BulkSize)
	for i, page := range pages {
		if err := checkReportID(reportID); err != nil {
			return false, fmt.Errorf("system %s: %w", sr.systemID, err)
		}
		req := &analytics.ReportResourceCountsRequest{SystemId: sr.base.SystemId, ResourceCounts: page}
		if reportID != "" {
			req.ReportId = &reportID
		}
		resp, err := e.client.ReportResourceCounts(ctx, req)
		if err != nil {
			return telemetryclient.IsReportExpired(err),
				fmt.Errorf("system %s: ReportResourceCounts page %d of %d: %w", sr.systemID, i+1, len(pages), err)
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
