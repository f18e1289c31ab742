package zitadeltelemetryreceiver

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// The names of the receiver's own metrics, as dashboards and alerts name
// them (the collector's Prometheus endpoint adds _total).
const (
	metricReceiverAcceptedReports = "otelcol_zitadeltelemetry_receiver_accepted_reports"
	metricReceiverAcceptedPages   = "otelcol_zitadeltelemetry_receiver_accepted_pages"
	metricReceiverAcceptedRows    = "otelcol_zitadeltelemetry_receiver_accepted_rows"
	metricReceiverRefusedCalls    = "otelcol_zitadeltelemetry_receiver_refused_calls"
)

// wireAttribute is the wire attribute of the calls each test client sends.
var wireAttribute = map[string]string{"zitadel": "http", "connect+json": "connect", "connect+proto": "connect", "grpc": "grpc"}

// refusedCalls reads otelcol_zitadeltelemetry_receiver_refused_calls as
// "wire/reason" -> calls.
func refusedCalls(t testing.TB, tel *componenttest.Telemetry) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric("otelcol_zitadeltelemetry_receiver_refused_calls")
	if err != nil {
		return out // nothing refused yet
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		wire, _ := dp.Attributes.Value("wire")
		reason, _ := dp.Attributes.Value("reason")
		out[wire.AsString()+"/"+reason.AsString()] += dp.Value
	}
	return out
}

// assertCountedOnce checks that exactly one refusal, of key, was counted
// between before and the counter's current state. grpc-go answers a message
// over its size limit before the handler returns, so the count may follow
// the answer by a moment: wait for it, with a deadline.
func assertCountedOnce(t testing.TB, tel *componenttest.Telemetry, before map[string]int64, key string) {
	t.Helper()
	want := map[string]int64{key: 1}
	var got map[string]int64
	for deadline := time.Now().Add(5 * time.Second); ; {
		got = map[string]int64{}
		for k, v := range refusedCalls(t, tel) {
			if v != before[k] {
				got[k] = v - before[k]
			}
		}
		if len(got) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, want, got, "refused calls counted by wire/reason")
}

// TestHTTPRefusalsAreCounted: the refusals only the HTTP wires have (a path
// that is not the service's or lacks the secret, a method other than POST, a
// Content-Type the path does not take) are answered 404, 405 and 415 and
// counted by wire and reason; accepted rows are counted as data points.
func TestHTTPRefusalsAreCounted(t *testing.T) {
	const secret = "counted-secret-0123456789"
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.HTTP.Get().PathSecret = secret })
	_, counts := officialMethods(t)
	withoutSecret := strings.TrimSuffix(u.httpURL, "/"+secret)
	good, err := protojson.Marshal(pageOf("sys", nil, goodRow(), goodRow()))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, method, url, contentType string
		status                         int
		counted                        string
	}{
		{"zitadel, no secret", http.MethodPost, withoutSecret + zitadelCountsPath, "application/json", 404, "http/not_found"},
		{"zitadel, wrong secret", http.MethodPost, withoutSecret + "/counted-secret-0123456788" + zitadelCountsPath, "application/json", 404, "http/not_found"},
		{"connect, wrong secret", http.MethodPost, withoutSecret + "/counted-secret-0123456788" + counts, "application/json", 404, "connect/not_found"},
		{"zitadel, GET", http.MethodGet, u.httpURL + zitadelCountsPath, "application/json", 405, "http/method"},
		{"connect, PUT", http.MethodPut, u.httpURL + counts, "application/json", 405, "connect/method"},
		{"zitadel, text/plain", http.MethodPost, u.httpURL + zitadelCountsPath, "text/plain", 415, "http/content_type"},
		{"zitadel, protobuf", http.MethodPost, u.httpURL + zitadelCountsPath, "application/proto", 415, "http/content_type"},
		{"zitadel, no Content-Type", http.MethodPost, u.httpURL + zitadelCountsPath, "", 415, "http/content_type"},
		{"connect, no Content-Type", http.MethodPost, u.httpURL + counts, "", 415, "connect/content_type"},
		{"connect, form", http.MethodPost, u.httpURL + counts, "application/x-www-form-urlencoded", 415, "connect/content_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, bytes.NewReader(good))
			require.NoError(t, err)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			before := refusedCalls(t, u.tel)
			res, err := u.client.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			assertCountedOnce(t, u.tel, before, tc.counted)
		})
	}

	res := postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", good, false)
	require.Equal(t, 200, res.httpStatus, res.message)
	accepted, err := u.tel.GetMetric("otelcol_receiver_accepted_metric_points")
	require.NoError(t, err)
	var points int64
	for _, dp := range accepted.Data.(metricdata.Sum[int64]).DataPoints {
		points += dp.Value
	}
	assert.Equal(t, int64(2), points)
}

// TestAcceptedCallsAreCounted sends, on every wire, one base information and
// pages of a different size per wire, plus a page whose report id is refused:
// the accepted reports, pages and rows are what each wire carried, and the
// refused page is in none of them.
func TestAcceptedCallsAreCounted(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	wireOf := wireAttribute
	want := map[string]map[string]int64{metricReceiverAcceptedReports: {}, metricReceiverAcceptedPages: {}, metricReceiverAcceptedRows: {}}
	size := 0
	for name, w := range u.wires(t) {
		base, _ := contracttest.Report("system-"+wireOf[name], 2, 1)
		res := w.send(t, false, base, nil)
		require.Equal(t, "ok", res.code, res.message)
		want[metricReceiverAcceptedReports][wireOf[name]]++
		for range 2 {
			size++
			got := w.send(t, true, pageOf(base.SystemId, proto.String(res.reportID), manyRows(size)...), nil)
			require.Equal(t, "ok", got.code, got.message)
			want[metricReceiverAcceptedPages][wireOf[name]]++
			want[metricReceiverAcceptedRows][wireOf[name]] += int64(size)
		}
		refused := w.send(t, true, pageOf(base.SystemId, proto.String("zr1.a.b.c"), manyRows(7)...), nil)
		require.NotEqual(t, "ok", refused.code)
	}

	for name, byWire := range want {
		assert.Equal(t, byWire, testkit.CounterBy(t, u.tel, name, "wire"), name)
	}
	assert.Equal(t, map[string]int64{"http": 1, "connect": 2, "grpc": 1}, want[metricReceiverAcceptedReports])
}

// TestSwitchedOffMetricsStillCountTheCalls: with both metrics switched off
// nothing is emitted, and every call is still accepted and counted.
func TestSwitchedOffMetricsStillCountTheCalls(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *Config) {
		c.Metrics.ZitadelInstanceInfo.Enabled, c.Metrics.ZitadelResourceCount.Enabled = false, false
	})
	base, rows := contracttest.Report("system-off", 2, 5)
	require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 7))
	assert.Zero(t, sink.DataPointCount())

	pages := int64((len(rows) + 6) / 7)
	for name, want := range map[string]int64{
		metricReceiverAcceptedReports: 1, metricReceiverAcceptedPages: pages,
		metricReceiverAcceptedRows: int64(len(rows)),
	} {
		var got int64
		for _, n := range testkit.CounterBy(t, u.tel, name, "wire") {
			got += n
		}
		assert.Equal(t, want, got, name)
	}
}
