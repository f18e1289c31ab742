package zitadeltelemetry

import (
	"testing"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// FuzzConfig fuzzes the decoding and validation of the zitadel receiver's
// and the exporter's configurations: nothing may panic, and every refusal
// names a key.
func FuzzConfig(f *testing.F) {
	testkit.FuzzConfigs(f, createDefaultReceiverConfig, createDefaultExporterConfig)
}
