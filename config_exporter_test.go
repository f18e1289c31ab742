package zitadeltelemetry

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
)

func loadExporterConfig(t *testing.T, name string) (*ExporterConfig, error) {
	t.Helper()
	return loadExporterConfigFrom(t, "config.yaml", name)
}

func loadExporterConfigFrom(t *testing.T, file, name string) (*ExporterConfig, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "exporter", file))
	require.NoError(t, err)
	id := component.NewID(ExporterType)
	if name != "" {
		id = component.NewIDWithName(ExporterType, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	if err := sub.Unmarshal(cfg); err != nil {
		return cfg, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestExporterConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewExporterFactory().CreateDefaultConfig()))
}

func TestExporterDefaults(t *testing.T) {
	cfg, err := loadExporterConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, "https://zitadel.com/api/ping", cfg.Endpoint)
	assert.Equal(t, ProtocolHTTP, cfg.Protocol)
	assert.Equal(t, 10000, cfg.BulkSize)
	assert.True(t, cfg.SendDomains)
	assert.Equal(t, time.Minute, cfg.Timeout)
	assert.True(t, cfg.RetryConfig.Enabled)
	assert.True(t, cfg.QueueConfig.HasValue())
	assert.True(t, cfg.HTTP.Keepalive.HasValue(), "keep-alives stay on")
	assert.Zero(t, cfg.HTTP.Timeout, "one report is bounded by the top-level timeout")
}

func TestExporterConfigLoads(t *testing.T) {
	full, err := loadExporterConfig(t, "full")
	require.NoError(t, err)
	assert.Equal(t, ProtocolConnect, full.Protocol)
	assert.Equal(t, "sys-config", full.SystemID)
	assert.Equal(t, "v4.2.0", full.Version)
	assert.Equal(t, 5000, full.BulkSize)
	assert.False(t, full.SendDomains)
	assert.Equal(t, 2*time.Minute, full.Timeout, "the top-level timeout is the report's")
	assert.Equal(t, 20*time.Second, full.HTTP.Timeout, "http::timeout is one request's")
	assert.Equal(t, 10*time.Second, full.RetryConfig.InitialInterval)
	require.True(t, full.QueueConfig.HasValue())
	queue := full.QueueConfig.Get()
	require.NotNil(t, queue.StorageID)
	assert.Equal(t, component.MustNewIDWithName("file_storage", "telemetry"), *queue.StorageID)
	assert.Equal(t, int64(50), queue.QueueSize)
	assert.Equal(t, configcompression.TypeGzip, full.HTTP.Compression)
	tenant, ok := full.HTTP.Headers.Get("X-Tenant")
	assert.True(t, ok)
	assert.Equal(t, "acme", string(tenant))
	assert.Equal(t, "/etc/ssl/telemetry-ca.pem", full.HTTP.TLS.CAFile)

	grpcCfg, err := loadExporterConfig(t, "grpc")
	require.NoError(t, err)
	assert.Equal(t, ProtocolGRPC, grpcCfg.Protocol)
	assert.Equal(t, configcompression.TypeZstd, grpcCfg.GRPC.Compression)
	assert.Equal(t, 30*time.Second, grpcCfg.GRPC.Keepalive.Get().Time)
	assert.Equal(t, component.MustNewID("bearertokenauth"), grpcCfg.GRPC.Auth.Get().AuthenticatorID)

	noQueue, err := loadExporterConfig(t, "no_queue")
	require.NoError(t, err)
	assert.False(t, noQueue.QueueConfig.HasValue())

	maxBulk, err := loadExporterConfig(t, "max_bulk_size")
	require.NoError(t, err)
	assert.Equal(t, fieldshape.MaxBulkSize, maxBulk.BulkSize)
}

func TestExporterConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"missing_endpoint", `endpoint: required; protocol "http" needs a base URL`},
		{"missing_grpc_endpoint", `endpoint: required; protocol "grpc" needs host:port`},
		{"not_a_url", `endpoint: "zitadel.com/api/ping" is not an http(s) URL`},
		{"url_with_query", `endpoint: "https://zitadel.com/api/ping?token=x" has a query or fragment`},
		{"grpc_without_port", `endpoint: "telemetry.example.com" is not host:port`},
		{"unknown_protocol", `protocol: "websocket" is not a protocol; use "http", "connect" or "grpc"`},
		{"bulk_size_zero", "bulk_size: 0 is out of range; use 1 to 11948"},
		{"bulk_size_too_large", "bulk_size: 11949 is out of range; use 1 to 11948, the most rows that surely fit one 4 MiB message"},
		{"system_id_too_long", "system_id: is longer than 128 bytes"},
		{"system_id_email", `system_id: is not an id: byte 3 is '@'; ids have letters, digits, '-' and '_'`},
		{"send_resources_user_by_state", `send_resources[0]: "user_by_state" is never sent: its counts differ only by zitadel.user.state and zitadel.user.type, which ZITADEL's report has no field for`},
		{"version_with_space", "version: is not a version: byte 2 is a space"},
		{"send_resources_unknown", `send_resources[1]: "login_policy" is not one of the names this collector adds (organization_custom_login_policy, organization_enforce_mfa, organization_verified_custom_domain); ZITADEL's own names are always sent`},
		{"grpc_with_path", `endpoint: "127.0.0.1:4317/api/ping" has a path; protocol "grpc" needs host:port only, such as telemetry.example.com:443`},
		{"grpc_url_with_path", `endpoint: "https://telemetry.example.com:443/api/ping" has a path; protocol "grpc" needs host:port only`},
		{"grpc_port_not_a_number", `endpoint: "telemetry.example.com:https" is not host:port`},
		{"http_block_with_grpc", `http: configures the client of protocols "http" and "connect", but protocol is "grpc": move its settings to the grpc block`},
		{"grpc_block_with_http", `grpc: configures the client of protocol "grpc", but protocol is "http"`},
		{"grpc_block_with_connect", `grpc: configures the client of protocol "grpc", but protocol is "connect"`},
		{"bulk_size_fraction", "bulk_size: 1.5 is not a whole number"},
		{"queue_size_fraction", "sending_queue::queue_size: 10.5 is not a whole number"},
		{"batch_size_fraction", "sending_queue::batch::min_size: 1.5 is not a whole number"},
		{"http_endpoint", "http::endpoint: not used; set the top-level endpoint"},
		{"grpc_endpoint", "grpc::endpoint: not used; set the top-level endpoint"},
		{"negative_timeout", "timeout value must be greater than or equal to 0"},
		{"bad_queue", "sending_queue: `queue_size` must be positive"},
		{"bad_compression", `unsupported compression type "rar"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadExporterConfig(t, tt.name)
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "secret-token")
		})
	}
}
