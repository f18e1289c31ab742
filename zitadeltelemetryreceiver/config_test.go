package zitadeltelemetryreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

func TestTelemetryReceiverConfig(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(createDefaultConfig()))
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	load := func(t *testing.T, name string) (*Config, error) {
		sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
		require.NoError(t, err)
		cfg := createDefaultConfig().(*Config)
		if err := sub.Unmarshal(cfg); err != nil {
			return cfg, err
		}
		return cfg, confmap.Validate(cfg)
	}

	t.Run("defaults", func(t *testing.T) {
		cfg, err := load(t, "defaults")
		require.NoError(t, err)
		require.True(t, cfg.HTTP.HasValue(), "ZITADEL's wire is served by default")
		assert.Equal(t, "localhost:4320", cfg.HTTP.Get().NetAddr.Endpoint)
		assert.Equal(t, "/zitadel/ping", cfg.HTTP.Get().Path)
		assert.False(t, cfg.GRPC.HasValue(), "gRPC only when asked for")
		assert.Equal(t, 24*time.Hour, cfg.ReportIDs.TTL)
		assert.Equal(t, 50000, cfg.MaxRowsPerPage)
		assert.Equal(t, defaultMetricsBuilderConfig(), cfg.MetricsBuilderConfig, "every metric and resource attribute on")
	})
	t.Run("switches", func(t *testing.T) {
		infoOff, err := load(t, "info_off")
		require.NoError(t, err)
		want := defaultMetricsBuilderConfig()
		want.Metrics.ZitadelInstanceInfo.Enabled = false
		assert.Equal(t, want, infoOff.MetricsBuilderConfig)

		domainsOff, err := load(t, "domains_off")
		require.NoError(t, err)
		want = defaultMetricsBuilderConfig()
		want.ResourceAttributes.ZitadelInstanceDomains.Enabled = false
		assert.Equal(t, want, domainsOff.MetricsBuilderConfig)
	})
	t.Run("full", func(t *testing.T) {
		cfg, err := load(t, "full")
		require.NoError(t, err)
		assert.Equal(t, "/api/ping", cfg.HTTP.Get().Path)
		assert.EqualValues(t, "abcdefghijklmnop0123", cfg.HTTP.Get().PathSecret)
		assert.EqualValues(t, 32<<20, cfg.HTTP.Get().MaxRequestBodySize)
		assert.Equal(t, "0.0.0.0:4321", cfg.GRPC.Get().NetAddr.Endpoint)
		assert.Equal(t, 2*time.Hour, cfg.ReportIDs.TTL)
		assert.Equal(t, 20000, cfg.MaxRowsPerPage)
		assert.True(t, cfg.UpdatedAtAttribute)
	})
	for name, want := range map[string]string{
		"nothing_served":        "http, grpc: both are off",
		"bad_path":              `http::path: "zitadel/ping/" does not start with /`,
		"trailing_slash":        "http::path: \"/zitadel/ping/\" ends with /",
		"short_secret":          "http::path_secret: has 8 characters",
		"secret_needs_escaping": "http::path_secret: has a character",
		"short_key":             "report_ids::key: 5 bytes is too short",
		"short_ttl":             "report_ids::ttl: 10s is shorter than 1m0s",
		"no_rows":               "max_rows_per_page: 0",
		"short_id_hash_key":     "id_hash_key: 20 bytes is too short",
		"unknown_metric":        "zitadel.user.count",
		"fractional_numbers":    "max_rows_per_page: 1.5 is not a whole number",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, name)
			require.Error(t, err)
			assert.ErrorContains(t, err, want)
			assert.NotContains(t, err.Error(), "abcdefghijklmnop/qrs", "a secret is never printed")
		})
	}
}

// Every integer key is checked, the server blocks included; a duration is
// not an integer key.
func TestIntegerKeysComeFromTheConfigType(t *testing.T) {
	assert.Subset(t, rawKeys.WholeNumbers(), []string{
		"max_rows_per_page", "http::max_request_body_size",
		"grpc::max_recv_msg_size_mib", "grpc::max_concurrent_streams",
	})
	assert.NotContains(t, rawKeys.WholeNumbers(), "report_ids::ttl")
}

// TestConfigStructs holds the configuration structs to the Collector's rules
// (mapstructure tags, lower-case keys, no unexported fields without the
// marker).
func TestConfigStructs(t *testing.T) {
	for _, cfg := range []any{createDefaultConfig(), &Config{}, &HTTPConfig{}, &GRPCConfig{}, &ReportIDConfig{}} {
		require.NoError(t, componenttest.CheckConfigStruct(cfg), "%T", cfg)
	}
}
