package zitadelapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

// TestCallsAreCountedByMethodAndCode: every call the fake answered is
// counted once, with its code; the refused ones as throttled, their repeats
// as retries.
func TestCallsAreCountedByMethodAndCode(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(userpb.UserService_ListUsers_FullMethodName, codes.ResourceExhausted, 2)
	cfg := testConfig(srv)
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	s := NewSource(cfg, activity.Config{}, nil, tel.NewTelemetrySettings()).(*source)
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })

	_, err := scrape(t, s)
	require.NoError(t, err)

	calls := sumsBy(t, tel, MetricAPICalls, "code")
	assert.Equal(t, srv.TotalCalls(), calls["OK"]+calls["ResourceExhausted"], "every call the server saw, once")
	assert.Equal(t, int64(2), calls["ResourceExhausted"])
	assert.Equal(t, map[string]int64{userpb.UserService_ListUsers_FullMethodName: 2}, sumsBy(t, tel, MetricAPIThrottledCalls, "method"))
	assert.Equal(t, map[string]int64{"ResourceExhausted": 2}, sumsBy(t, tel, MetricAPIRetries, "code"))
}

// sumsBy adds up a counter's points by the value of one attribute.
func sumsBy(t *testing.T, tel *componenttest.Telemetry, name, key string) map[string]int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err)
	out := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key(key))
		out[v.AsString()] += dp.Value
	}
	return out
}

func noopCallMetrics(tb testing.TB) *callMetrics {
	m, err := newCallMetrics(noop.NewMeterProvider())
	require.NoError(tb, err)
	return m
}
