package zitadeltelemetry

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
)

// ExporterConfig configures the `zitadeltelemetry` exporter.
type ExporterConfig struct{}

func createDefaultExporterConfig() component.Config { return &ExporterConfig{} }

func createMetricsExporter(context.Context, exporter.Settings, component.Config) (exporter.Metrics, error) {
	return nil, errors.New("zitadeltelemetry exporter: not implemented yet")
}
