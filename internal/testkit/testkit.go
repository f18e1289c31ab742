package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
)

// CounterBy adds up a counter's points by the value of one attribute; a
// counter never written reads as empty.
func CounterBy(t testing.TB, tel *componenttest.Telemetry, name, key string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric(name)
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key(key))
		out[v.AsString()] += dp.Value
	}
	return out
}

// StopsWithin shuts down and fails the test when that takes limit or longer.
func StopsWithin(t testing.TB, limit time.Duration, shutdown func(context.Context) error, why string) {
	t.Helper()
	stopped := make(chan error, 1)
	go func() { stopped <- shutdown(context.Background()) }()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(limit):
		t.Fatal(why)
	}
}

// ExtensionsHost is a host with the given extensions.
type ExtensionsHost = storageclienttest.Host

// EnabledByName reads a block of switches (name: {enabled: …}).
func EnabledByName(block any) map[string]bool {
	out := map[string]bool{}
	for name, v := range block.(map[string]any) {
		out[name] = v.(map[string]any)["enabled"].(bool)
	}
	return out
}
