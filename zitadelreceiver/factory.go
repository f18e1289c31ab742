// Package zitadelreceiver exposes the `zitadel` receiver to ocb, which imports
// one package per component and calls its NewFactory.
package zitadelreceiver

import (
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-zitadel/zitadeltelemetry"
)

// NewFactory returns the factory of the `zitadel` receiver.
func NewFactory() receiver.Factory { return zitadeltelemetry.NewReceiverFactory() }
