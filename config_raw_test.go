package zitadeltelemetry

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// The raw checks of every component: a secret present but empty (what an
// unset ${env:VAR} yields), a duration below a millisecond (a number without
// a unit), and the limits that would remove a protection.

func newExporterConfig() component.Config { return createDefaultExporterConfig() }
func newReceiverConfig() component.Config { return createDefaultReceiverConfig() }

const goodSecret = "a-path-secret-of-24-chars"

func TestEmptySecretsAreConfigurationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func() component.Config
		raw  map[string]any
		want []string
	}{
		{
			"exporter id_hash_key", newExporterConfig,
			map[string]any{"endpoint": "https://zitadel.com/api/ping", "id_hash_key": ""},
			[]string{"id_hash_key: is set but empty"},
		},
		{
			"exporter path_secret", newExporterConfig,
			map[string]any{"endpoint": "https://central/zitadel/ping", "path_secret": nil},
			[]string{"path_secret: is set but empty"},
		},
		{
			"exporter header, map", newExporterConfig,
			map[string]any{"endpoint": "https://zitadel.com/api/ping", "http": map[string]any{"headers": map[string]any{"X-Key": nil}}},
			[]string{"http::headers::X-Key: is set but empty"},
		},
		{
			"exporter header, list", newExporterConfig,
			map[string]any{"endpoint": "https://zitadel.com/api/ping", "http": map[string]any{"headers": []any{map[string]any{"name": "X-Key", "value": ""}}}},
			[]string{"http::headers[0] (X-Key): is set but empty"},
		},
		{
			"api token", newReceiverConfig,
			map[string]any{"api": map[string]any{"endpoint": "zitadel.example.com:443", "token": nil}},
			[]string{"api::token: is set but empty"},
		},
		{
			"database password", newReceiverConfig,
			map[string]any{"source": "database", "database": map[string]any{"password": ""}},
			[]string{"database::password: is set but empty"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testkit.LoadRaw(tc.cfg(), tc.raw)
			require.Error(t, err)
			for _, want := range tc.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestDurationsWithoutAUnitAreRefused(t *testing.T) {
	endpoint := "https://zitadel.com/api/ping"
	for _, tc := range []struct {
		name string
		cfg  func() component.Config
		raw  map[string]any
		want string
	}{
		{
			"exporter timeout", newExporterConfig,
			map[string]any{"endpoint": endpoint, "timeout": 60},
			"timeout: 60 is 60 nanoseconds, a number without a unit; write the unit, e.g. 60s",
		},
		{
			"exporter retry", newExporterConfig,
			map[string]any{"endpoint": endpoint, "retry_on_failure": map[string]any{"initial_interval": 5}},
			"retry_on_failure::initial_interval: 5 is 5 nanoseconds",
		},
		{"exporter queue batch", newExporterConfig, map[string]any{
			"endpoint":      endpoint,
			"sending_queue": map[string]any{"batch": map[string]any{"flush_timeout": 200}},
		}, "sending_queue::batch::flush_timeout: 200 is 200 nanoseconds"},
		{
			"exporter http client", newExporterConfig,
			map[string]any{"endpoint": endpoint, "http": map[string]any{"timeout": 30}},
			"http::timeout: 30 is 30 nanoseconds",
		},
		{
			"exporter microseconds", newExporterConfig,
			map[string]any{"endpoint": endpoint, "timeout": "500us"},
			"timeout: 500us is below a millisecond",
		},
		{
			"receiver api timeout", newReceiverConfig,
			map[string]any{"api": map[string]any{"endpoint": "zitadel.example.com:443", "token": "t"}, "initial_delay": 10},
			"initial_delay: 10 is 10 nanoseconds",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testkit.LoadRaw(tc.cfg(), tc.raw)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("units and zero pass", func(t *testing.T) {
		assert.NoError(t, testkit.LoadRaw(newExporterConfig(), map[string]any{
			"endpoint": endpoint, "timeout": "60s",
			"retry_on_failure": map[string]any{"initial_interval": "5s"}, "http": map[string]any{"timeout": 0},
		}))
	})
}

func TestExporterPathSecret(t *testing.T) {
	cfg := createDefaultExporterConfig().(*ExporterConfig)
	require.NoError(t, testkit.LoadRaw(cfg, map[string]any{"endpoint": "https://central/zitadel/ping/", "path_secret": goodSecret}))
	assert.Equal(t, "https://central/zitadel/ping/"+goodSecret, cfg.endpointWithSecret())

	for _, tc := range []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"short", map[string]any{"endpoint": "https://central/zitadel/ping", "path_secret": "short"}, "path_secret: has 5 characters"},
		{
			"grpc",
			map[string]any{"endpoint": "central:4321", "protocol": "grpc", "path_secret": goodSecret},
			`path_secret: not used with protocol "grpc"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testkit.LoadRaw(createDefaultExporterConfig(), tc.raw)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), goodSecret)
		})
	}
}
