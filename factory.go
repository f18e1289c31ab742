// Package zitadeltelemetry holds two of the module's three OpenTelemetry
// Collector components for ZITADEL usage telemetry: the `zitadel` receiver,
// which counts a ZITADEL installation's resources, and the
// `zitadeltelemetry` exporter, which sends those counts as ZITADEL
// TelemetryService reports. The third, the `zitadeltelemetry` receiver, is
// its own package, zitadeltelemetryreceiver.
//
// Each of the four files holds what its name says: factory.go the factories
// and the components' defaults (each source's own in its package: zitadelapi,
// zitadeldb), config.go the configuration and its validation,
// receiver.go the scraper, exporter.go the exporter. The shared concepts are
// internal packages (internal/contract, internal/report, internal/schedule,
// ...); this package imports them, never the other way round.
package zitadeltelemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/drain"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/schedule"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelexportermetadata"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

var (
	// ReceiverType is the receiver's key in collector YAML, from zitadelreceiver/metadata.yaml.
	ReceiverType = zitadelreceivermetadata.Type
	// ExporterType is the exporter's key in collector YAML, from zitadelexporter/metadata.yaml.
	ExporterType = zitadelexportermetadata.Type
)

const (
	// Counting is cheap on the database and costly on the API; an hour keeps a
	// dashboard fresh without loading a large installation.
	defaultCollectionInterval = time.Hour

	// defaultMaxAge is three of the receiver's default collection intervals
	// (1h): a count two scrapes in a row did not refresh is gone from a
	// scheduled report.
	defaultMaxAge = 3 * time.Hour
	// defaultReportTimeout bounds one attempt at a batch: every system's base
	// information and all its pages, which for a large installation is a hundred
	// POSTs of a few MiB each.
	defaultReportTimeout = time.Minute
)

// NewReceiverFactory returns the factory of the `zitadel` receiver.
func NewReceiverFactory() receiver.Factory {
	return receiver.NewFactory(ReceiverType, createDefaultReceiverConfig,
		receiver.WithMetrics(createMetricsReceiver, zitadelreceivermetadata.MetricsStability),
		receiver.WithLogs(createLogsReceiver, zitadelreceivermetadata.LogsStability))
}

func createDefaultReceiverConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = defaultCollectionInterval
	return &ReceiverConfig{
		ControllerConfig: cc,
		Source:           SourceAPI,
		API:              zitadelapi.NewDefaultConfig(),
		Database:         zitadeldb.NewDefaultConfig(),
		AuditLog:         audittrail.NewDefaultConfig(),
		Activity:         activity.NewDefaultConfig(),

		MetricsBuilderConfig: contract.DefaultMetricsBuilderConfig(),
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	rc := cfg.(*ReceiverConfig)
	if w := rc.deprecationWarning(); w != "" {
		set.Logger.Warn(w)
	}
	s, err := newZitadelScraper(rc, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	s.receiverID = set.ID.String()
	s.setStorageOwner(set.ID)
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return nil, err
	}
	handOff := drain.New(errShutdownHandOff)
	ctrl, err := scraperhelper.NewMetricsController(&rc.ControllerConfig, set, handOffConsumer{Metrics: next, stop: handOff},
		scraperhelper.AddMetricsScraper(ReceiverType, sc))
	if err != nil {
		return nil, err
	}
	return &zitadelReceiver{Metrics: ctrl, scraper: s, handOff: handOff, logger: set.Logger}, nil
}

// NewExporterFactory returns the factory of the `zitadeltelemetry` exporter.
func NewExporterFactory() exporter.Factory {
	return exporter.NewFactory(ExporterType, createDefaultExporterConfig,
		exporter.WithMetrics(createMetricsExporter, zitadelexportermetadata.MetricsStability))
}

func createDefaultExporterConfig() component.Config {
	cfg := &ExporterConfig{
		Protocol:      ProtocolHTTP,
		BulkSize:      fieldshape.DefaultBulkSize,
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
	return newMetricsExporter(ctx, set, cfg, schedule.SystemClock{}, schedule.NewRandom())
}
