package zitadeltelemetry

import (
	"testing"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// TestREADMEsStateTheDefaults holds every default the components' key tables state to the
// component's default configuration: a change to either fails here until the other follows.
// The zitadeltelemetry receiver's README is held in its own package.
func TestREADMEsStateTheDefaults(t *testing.T) {
	t.Run("zitadel receiver", func(t *testing.T) {
		testkit.READMEStatesTheDefaults(t, "zitadelreceiver/README.md", createDefaultReceiverConfig(), map[string]string{
			"## `api` source":      "api",
			"## `database` source": "database",
		})
	})
	t.Run("zitadeltelemetry exporter", func(t *testing.T) {
		testkit.READMEStatesTheDefaults(t, "zitadelexporter/README.md", createDefaultExporterConfig(), nil)
	})
}
