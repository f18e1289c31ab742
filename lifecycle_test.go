package zitadeltelemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

// TestConfigStructs holds every configuration struct of the module to the
// Collector's rules (mapstructure tags, lower-case keys, no unexported
// fields without the marker).
func TestConfigStructs(t *testing.T) {
	for _, cfg := range []any{
		NewReceiverFactory().CreateDefaultConfig(),
		NewExporterFactory().CreateDefaultConfig(),
		&ReceiverConfig{}, &ExporterConfig{},
		&zitadelapi.Config{}, &zitadelapi.SystemUserConfig{}, &zitadelapi.InstancesConfig{}, &zitadelapi.RetryConfig{},
		&zitadeldb.Config{}, &zitadeldb.TLSConfig{},
	} {
		require.NoError(t, componenttest.CheckConfigStruct(cfg), "%T", cfg)
	}
}

// lifecycleCase builds a component from a valid configuration that needs no
// server to start: the sources and clients connect on first use.
type lifecycleCase struct {
	name   string
	create func(t *testing.T) component.Component
}

func lifecycleCases() []lifecycleCase {
	receiverWith := func(edit func(*ReceiverConfig)) func(t *testing.T) component.Component {
		return func(t *testing.T) component.Component {
			cfg := createDefaultReceiverConfig().(*ReceiverConfig)
			edit(cfg)
			require.NoError(t, cfg.Validate())
			c, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, consumertest.NewNop())
			require.NoError(t, err)
			return c
		}
	}
	exporterWith := func(edit func(*ExporterConfig)) func(t *testing.T) component.Component {
		return func(t *testing.T) component.Component {
			cfg := createDefaultExporterConfig().(*ExporterConfig)
			cfg.Endpoint = "http://127.0.0.1:1/api/ping"
			edit(cfg)
			require.NoError(t, cfg.Validate())
			c, err := NewExporterFactory().CreateMetrics(t.Context(), exportertest.NewNopSettings(ExporterType), cfg)
			require.NoError(t, err)
			return c
		}
	}
	return []lifecycleCase{
		{"zitadel receiver, api source", receiverWith(func(c *ReceiverConfig) {
			c.API.Endpoint = "127.0.0.1:1"
			c.API.TLS.Insecure = true
			c.API.Token = "unused"
		})},
		{"zitadel receiver, database source", receiverWith(func(c *ReceiverConfig) {
			c.Source = SourceDatabase
			c.Database.DSN = "postgres://reader@127.0.0.1:1/zitadel"
		})},
		{"zitadeltelemetry exporter, http", exporterWith(func(*ExporterConfig) {})},
		{"zitadeltelemetry exporter, grpc", exporterWith(func(c *ExporterConfig) {
			c.Protocol = ProtocolGRPC
			c.Endpoint = "127.0.0.1:1"
			c.GRPC.TLS.Insecure = true
		})},
		{"zitadeltelemetry exporter, scheduled", exporterWith(func(c *ExporterConfig) { c.Schedule = "@daily" })},
	}
}

// TestLifecycle creates, starts and shuts down every component, and shuts
// down one that never started; TestMain checks that nothing is left running.
func TestLifecycle(t *testing.T) {
	for _, tc := range lifecycleCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.create(t)
			require.NoError(t, c.Start(t.Context(), componenttest.NewNopHost()))
			require.NoError(t, c.Shutdown(context.Background()))

			unstarted := tc.create(t)
			require.NoError(t, unstarted.Shutdown(context.Background()))
		})
	}
}
