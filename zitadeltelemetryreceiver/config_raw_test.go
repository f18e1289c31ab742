package zitadeltelemetryreceiver

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// The raw checks of every component: a secret present but empty (what an
// unset ${env:VAR} yields), a duration below a millisecond (a number without
// a unit), and the limits that would remove a protection.

func newTelemetryReceiverConfig() component.Config { return createDefaultConfig() }

func TestEmptySecretsAreConfigurationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func() component.Config
		raw  map[string]any
		want []string
	}{
		{
			"path_secret from an unset variable", newTelemetryReceiverConfig,
			map[string]any{"http": map[string]any{"path_secret": nil}},
			[]string{"http::path_secret: is set but empty"},
		},
		{
			"path_secret empty", newTelemetryReceiverConfig,
			map[string]any{"http": map[string]any{"path_secret": ""}},
			[]string{"http::path_secret: is set but empty"},
		},
		{
			"report id key", newTelemetryReceiverConfig,
			map[string]any{"report_ids": map[string]any{"key": ""}},
			[]string{"report_ids::key: is set but empty"},
		},
		{
			"receiver id_hash_key", newTelemetryReceiverConfig,
			map[string]any{"id_hash_key": nil},
			[]string{"id_hash_key: is set but empty"},
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
	for _, tc := range []struct {
		name string
		cfg  func() component.Config
		raw  map[string]any
		want string
	}{
		{
			"telemetry receiver read_timeout", newTelemetryReceiverConfig,
			map[string]any{"http": map[string]any{"read_timeout": 30}},
			"http::read_timeout: 30 is 30 nanoseconds",
		},
		{
			"telemetry receiver grpc keepalive", newTelemetryReceiverConfig,
			map[string]any{"grpc": map[string]any{"keepalive": map[string]any{"server_parameters": map[string]any{"time": 10}}}},
			"grpc::keepalive::server_parameters::time: 10 is 10 nanoseconds",
		},
		{
			"telemetry receiver ttl", newTelemetryReceiverConfig,
			map[string]any{"report_ids": map[string]any{"ttl": 3600}},
			"report_ids::ttl: 3600 is 3600 nanoseconds",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testkit.LoadRaw(tc.cfg(), tc.raw)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("units and zero pass", func(t *testing.T) {
		assert.NoError(t, testkit.LoadRaw(newTelemetryReceiverConfig(), map[string]any{"http": map[string]any{"read_timeout": "1m"}}))
	})
}

func TestTelemetryReceiverLimitsHaveUpperBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  map[string]any
		want string
	}{
		{
			"no body limit",
			map[string]any{"http": map[string]any{"max_request_body_size": -1}},
			"http::max_request_body_size: -1 is out of range; use 0 (20 MiB) up to 67108864 (64 MiB)",
		},
		{
			"huge body limit",
			map[string]any{"http": map[string]any{"max_request_body_size": 1 << 30}},
			"http::max_request_body_size: 1073741824 is out of range",
		},
		{
			"huge pages",
			map[string]any{"max_rows_per_page": 10000000},
			"max_rows_per_page: 10000000 is out of range; use 1 to 100000",
		},
		{
			"huge gRPC messages",
			map[string]any{"grpc": map[string]any{"max_recv_msg_size_mib": 100000}},
			"grpc::max_recv_msg_size_mib: 100000 is out of range; use 0 (4 MiB) up to 64",
		},
		{"no instances", map[string]any{"max_instances_per_call": 0}, "max_instances_per_call: 0 is out of range; use 1 to 100000"},
		{"too many instances", map[string]any{"max_instances_per_call": 1000000}, "max_instances_per_call: 1000000 is out of range"},
		{"a system that is no id", map[string]any{"systems": []any{"a@b"}}, `systems[0]: "a@b" is not an id`},
		{"an empty system", map[string]any{"systems": []any{""}}, "systems[0]: empty system id"},
		{"tiny headers", map[string]any{"max_header_bytes": 1024}, "max_header_bytes: 1024 is out of range; use 4096 to 1048576"},
		{"no connections", map[string]any{"max_connections": 0}, "max_connections: 0 is out of range; use 1 to 100000"},
		{
			"less in flight than a body",
			map[string]any{"max_bytes_in_flight": 10 << 20},
			"max_bytes_in_flight: 10485760 is out of range; use 41943040 (twice the largest body",
		},
		{
			"less in flight than a gRPC message",
			map[string]any{"grpc": map[string]any{"max_recv_msg_size_mib": 64}, "max_bytes_in_flight": 100 << 20},
			"max_bytes_in_flight: 104857600 is out of range; use 134217728",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testkit.LoadRaw(newTelemetryReceiverConfig(), tc.raw)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("the bounds themselves pass", func(t *testing.T) {
		assert.NoError(t, testkit.LoadRaw(newTelemetryReceiverConfig(), map[string]any{
			"http": map[string]any{"max_request_body_size": 64 << 20}, "grpc": map[string]any{"max_recv_msg_size_mib": 64},
			"max_rows_per_page": 100000, "max_instances_per_call": 100000, "systems": []any{"system-a", "system-b"},
		}))
	})
}

// The HTTP server's defaults cut a body that never ends within a minute.
func TestTelemetryReceiverServerTimeoutsByDefault(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	h := cfg.HTTP.Get()
	assert.Positive(t, h.ReadTimeout)
	assert.Equal(t, 30*time.Second, h.ReadTimeout, "the README documents 30s")
	assert.LessOrEqual(t, h.ReadTimeout, time.Minute, "a request is cut within a minute")
	assert.LessOrEqual(t, h.ReadHeaderTimeout, h.ReadTimeout, "headers too")
	require.True(t, h.Keepalive.HasValue())
	assert.Positive(t, h.Keepalive.Get().IdleTimeout)
	assert.EqualValues(t, 20<<20, h.MaxRequestBodySize, "confighttp's own default, 20 MiB")
	assert.Equal(t, 10000, cfg.MaxInstancesPerCall)
}

// The README's key table states every default as the config type has it,
// the grpc block's as it is when present.
func TestTheReadmeStatesTheDefaults(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.GRPC.GetOrInsertDefault()
	testkit.READMEStatesTheDefaults(t, "README.md", cfg, nil)
}

// The gRPC server's defaults end a call whose message has not arrived
// within 30s and close a connection without calls after a minute, as the
// HTTP server's do; setting other keepalive keys keeps the idle limit.
func TestTelemetryReceiverGRPCTimeoutsByDefault(t *testing.T) {
	idle := func(g *GRPCConfig) time.Duration {
		require.True(t, g.Keepalive.HasValue())
		require.True(t, g.Keepalive.Get().ServerParameters.HasValue())
		return g.Keepalive.Get().ServerParameters.Get().MaxConnectionIdle
	}
	g := createDefaultConfig().(*Config).GRPC.GetOrInsertDefault()
	assert.Equal(t, 30*time.Second, g.ReadTimeout, "the README documents 30s")
	assert.Equal(t, time.Minute, idle(g), "the README documents 1m")

	cfg := createDefaultConfig().(*Config)
	require.NoError(t, testkit.LoadRaw(cfg, map[string]any{"grpc": map[string]any{
		"endpoint": "localhost:4321", "keepalive": map[string]any{"server_parameters": map[string]any{"time": "20s"}},
	}}))
	assert.Equal(t, time.Minute, idle(cfg.GRPC.Get()), "another keepalive key leaves the idle limit")
	assert.Equal(t, 20*time.Second, cfg.GRPC.Get().Keepalive.Get().ServerParameters.Get().Time)
	assert.Equal(t, 30*time.Second, cfg.GRPC.Get().ReadTimeout)

	cfg = createDefaultConfig().(*Config)
	require.NoError(t, testkit.LoadRaw(cfg, map[string]any{"grpc": map[string]any{"read_timeout": "5s"}}))
	assert.Equal(t, 5*time.Second, cfg.GRPC.Get().ReadTimeout)

	err := testkit.LoadRaw(createDefaultConfig(), map[string]any{"grpc": map[string]any{"read_timeout": "0s"}})
	assert.ErrorContains(t, err, "grpc::read_timeout: 0s is not positive")
	err = testkit.LoadRaw(createDefaultConfig(), map[string]any{"grpc": map[string]any{"read_timeout": 30}})
	assert.ErrorContains(t, err, "grpc::read_timeout: 30 is 30 nanoseconds")
}

// The README's example configuration gives the bounds' defaults as the
// config type has them, and names gRPC's stream bound.
func TestTheReadmeGivesTheServerBoundsDefaults(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	for key, value := range map[string]int64{
		"max_bytes_in_flight": cfg.MaxBytesInFlight,
		"max_header_bytes":    int64(cfg.MaxHeaderBytes),
		"max_connections":     int64(cfg.MaxConnections),
	} {
		assert.Contains(t, string(readme), fmt.Sprintf("    %s: %d", key, value), key)
	}
	g := cfg.GRPC.GetOrInsertDefault()
	assert.Contains(t, string(readme), fmt.Sprintf("`grpc::max_concurrent_streams` is %d by default", g.MaxConcurrentStreams))
	assert.Contains(t, string(readme), fmt.Sprintf("| `grpc::read_timeout` | `%s` |", g.ReadTimeout))
	assert.Contains(t, string(readme), fmt.Sprintf("| `grpc::keepalive::server_parameters::max_connection_idle` | `%s` |",
		strings.TrimSuffix(g.Keepalive.Get().ServerParameters.Get().MaxConnectionIdle.String(), "0s")))
}
