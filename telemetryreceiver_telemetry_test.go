package zitadeltelemetry

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
)

// TestRefusalsAreCounted: every refused call is counted by wire and reason,
// and the rows taken are counted as accepted data points.
func TestRefusalsAreCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := receivertest.NewNopSettings(TelemetryReceiverType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	r, err := newTelemetryReceiver(createDefaultTelemetryReceiverConfig().(*TelemetryReceiverConfig), set, &consumertest.MetricsSink{})
	require.NoError(t, err)
	handler := telemetryservice.NewHTTPHandler(r, telemetryservice.HTTPOptions{Path: "/p", Decoding: r.decoding()})
	post := func(body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/p/resource_counts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	good, err := protojson.Marshal(pageOf("sys", nil, goodRow(), goodRow()))
	require.NoError(t, err)
	badID, err := protojson.Marshal(pageOf("sys", proto.String("zr1.a.b.c"), goodRow()))
	require.NoError(t, err)
	unnamed, err := protojson.Marshal(&analytics.ReportResourceCountsRequest{SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{{}}})
	require.NoError(t, err)

	assert.Equal(t, 200, post(good))
	assert.Equal(t, 400, post([]byte(`{"systemId":`)))
	assert.Equal(t, 400, post(unnamed))
	assert.Equal(t, 412, post(badID))

	refused, err := tel.GetMetric("otelcol_zitadeltelemetry_receiver_refused_calls")
	require.NoError(t, err)
	byReason := map[string]int64{}
	for _, dp := range refused.Data.(metricdata.Sum[int64]).DataPoints {
		wire, _ := dp.Attributes.Value("wire")
		assert.Equal(t, "http", wire.AsString())
		reason, _ := dp.Attributes.Value("reason")
		byReason[reason.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{"malformed": 2, "report_id": 1}, byReason)

	accepted, err := tel.GetMetric("otelcol_receiver_accepted_metric_points")
	require.NoError(t, err)
	var points int64
	for _, dp := range accepted.Data.(metricdata.Sum[int64]).DataPoints {
		points += dp.Value
	}
	assert.Equal(t, int64(2), points)
}

// countCalls counts the calls of a receiver started with no-op telemetry
// into a telemetry of its own, before any call arrives.
func countCalls(t *testing.T, u *receiverUnderTest) *componenttest.Telemetry {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	calls, err := newReceiverCalls(tel.NewTelemetrySettings())
	require.NoError(t, err)
	u.r.calls = calls
	return tel
}

// TestAcceptedCallsAreCounted sends, on every wire, one base information and
// pages of a different size per wire, plus a page whose report id is refused:
// the accepted reports, pages and rows are what each wire carried, and the
// refused page is in none of them.
func TestAcceptedCallsAreCounted(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	tel := countCalls(t, u)

	wireOf := map[string]string{"zitadel": "http", "connect+json": "connect", "connect+proto": "connect", "grpc": "grpc"}
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
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		got := map[string]int64{}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			wire, _ := dp.Attributes.Value("wire")
			got[wire.AsString()] += dp.Value
		}
		assert.Equal(t, byWire, got, name)
	}
	assert.Equal(t, map[string]int64{"http": 1, "connect": 2, "grpc": 1}, want[metricReceiverAcceptedReports])
}

// TestSwitchedOffMetricsStillCountTheCalls: with both metrics switched off
// nothing is emitted, and every call is still accepted and counted.
func TestSwitchedOffMetricsStillCountTheCalls(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *TelemetryReceiverConfig) {
		c.Metrics.ZitadelInstanceInfo.Enabled, c.Metrics.ZitadelResourceCount.Enabled = false, false
	})
	tel := countCalls(t, u)
	base, rows := contracttest.Report("system-off", 2, 5)
	require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 7))
	assert.Zero(t, sink.DataPointCount())

	pages := int64((len(rows) + 6) / 7)
	for name, want := range map[string]int64{metricReceiverAcceptedReports: 1, metricReceiverAcceptedPages: pages,
		metricReceiverAcceptedRows: int64(len(rows))} {
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		var got int64
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			got += dp.Value
		}
		assert.Equal(t, want, got, name)
	}
}
