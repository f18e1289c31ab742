// Package zitadelexporter exposes the `zitadeltelemetry` exporter to ocb, which
// imports one package per component and calls its NewFactory.
package zitadelexporter

import (
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelcol-zitadel/zitadeltelemetry"
)

// NewFactory returns the factory of the `zitadeltelemetry` exporter.
func NewFactory() exporter.Factory { return zitadeltelemetry.NewExporterFactory() }
