package zitadeltelemetryreceiver

import (
	"testing"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// FuzzConfig fuzzes the decoding and validation of the receiver's
// configuration: nothing may panic, and every refusal names a key.
func FuzzConfig(f *testing.F) {
	testkit.FuzzConfigs(f, createDefaultConfig)
}
