package zitadelapi

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// Names of the receiver's own metrics about its calls to ZITADEL; the
// collector's Prometheus endpoint adds _total.
const (
	MetricAPICalls          = "otelcol_zitadel_receiver_api_calls"
	MetricAPIThrottledCalls = "otelcol_zitadel_receiver_api_throttled_calls"
	MetricAPIRetries        = "otelcol_zitadel_receiver_api_retries"
)

// callMetrics counts every call that reached ZITADEL by method and gRPC code,
// the calls ZITADEL refused for their rate (RESOURCE_EXHAUSTED), and the
// repeated calls after a backoff.
type callMetrics struct {
	calls     metric.Int64Counter
	throttled metric.Int64Counter
	retries   metric.Int64Counter
}

func newCallMetrics(mp metric.MeterProvider) (*callMetrics, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := mp.Meter(model.ScopeName)
	var cm callMetrics
	var err error
	if cm.calls, err = m.Int64Counter(MetricAPICalls, metric.WithUnit("{call}"),
		metric.WithDescription("Calls of the zitadel receiver to ZITADEL's API, by gRPC method and status code (attributes method, code).")); err != nil {
		return nil, err
	}
	if cm.throttled, err = m.Int64Counter(MetricAPIThrottledCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Calls ZITADEL refused with RESOURCE_EXHAUSTED (its rate limit), by gRPC method (attribute method).")); err != nil {
		return nil, err
	}
	if cm.retries, err = m.Int64Counter(MetricAPIRetries, metric.WithUnit("{call}"),
		metric.WithDescription("Calls repeated after a backoff on RESOURCE_EXHAUSTED or UNAVAILABLE, by gRPC method and the code that caused them (attributes method, code).")); err != nil {
		return nil, err
	}
	return &cm, nil
}

func methodCode(method string, code codes.Code) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String("method", method), attribute.String("code", code.String()))
}
