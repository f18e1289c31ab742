package zitadelreceiver

import (
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-zitadel/zitadeltelemetry"
)

// NewFactory returns the factory of the `zitadel` receiver.
func NewFactory() receiver.Factory { return zitadeltelemetry.NewReceiverFactory() }
