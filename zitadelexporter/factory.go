package zitadelexporter

import (
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelcol-zitadel/zitadeltelemetry"
)

// NewFactory returns the factory of the `zitadeltelemetry` exporter.
func NewFactory() exporter.Factory { return zitadeltelemetry.NewExporterFactory() }
