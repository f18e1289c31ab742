// Package zitadeltelemetryreceiver exposes the `zitadeltelemetry` receiver,
// the TelemetryService endpoint, to ocb, which imports one package per
// component and calls its NewFactory.
package zitadeltelemetryreceiver

import (
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-zitadel/zitadeltelemetry"
)

// NewFactory returns the factory of the `zitadeltelemetry` receiver.
func NewFactory() receiver.Factory { return zitadeltelemetry.NewTelemetryReceiverFactory() }
