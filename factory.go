// Package zitadeltelemetry holds the two OpenTelemetry Collector components for
// ZITADEL usage telemetry: the `zitadel` receiver, which counts a ZITADEL
// installation's resources, and the `zitadeltelemetry` exporter, which sends
// those counts as ZITADEL TelemetryService reports.
package zitadeltelemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

var (
	// ReceiverType is the receiver's key in collector YAML.
	ReceiverType = component.MustNewType("zitadel")
	// ExporterType is the exporter's key in collector YAML.
	ExporterType = component.MustNewType("zitadeltelemetry")
)

const (
	receiverStability = component.StabilityLevelAlpha
	exporterStability = component.StabilityLevelAlpha

	// Counting is cheap on the database and costly on the API; an hour keeps a
	// dashboard fresh without loading a large installation.
	defaultCollectionInterval = time.Hour
)

// NewReceiverFactory returns the factory of the `zitadel` receiver.
func NewReceiverFactory() receiver.Factory {
	return receiver.NewFactory(ReceiverType, createDefaultReceiverConfig,
		receiver.WithMetrics(createMetricsReceiver, receiverStability))
}

func createDefaultReceiverConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = defaultCollectionInterval
	return &ReceiverConfig{
		ControllerConfig: cc,
		Source:           SourceAPI,
		API:              zitadelapi.NewDefaultConfig(),
		Database:         zitadeldb.NewDefaultConfig(),

		MetricsBuilderConfig: defaultMetricsBuilderConfig(),
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	rc := cfg.(*ReceiverConfig)
	s := newZitadelScraper(rc, set.TelemetrySettings)
	s.receiverID = set.ID.String()
	s.setStorageOwner(set.ID)
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return nil, err
	}
	handOff := newDrainingStop(errShutdownHandOff)
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
		exporter.WithMetrics(createMetricsExporter, exporterStability))
}
