package zitadeltelemetryreceiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

// FuzzTelemetryReceiverCounts: whatever the body, the receiver never
// crashes, and either takes the page whole (every row protojson or
// proto.Unmarshal reads from it is emitted, nothing else) or refuses it with
// a status that cancels the report and emits nothing.
func FuzzTelemetryReceiverCounts(f *testing.F) {
	base, rows := contracttest.Report("fuzz-system", 2, 3)
	page := &analytics.ReportResourceCountsRequest{SystemId: base.SystemId, ResourceCounts: rows}
	asJSON, _ := protojson.Marshal(page)
	asProto, _ := proto.Marshal(page)
	f.Add(asJSON, false)
	f.Add(asProto, true)
	f.Add([]byte(`{"systemId":"s","resourceCounts":[{"instanceId":"i","parentType":"COUNT_PARENT_TYPE_INSTANCE","parentId":"i","resourceName":"user"}]}`), false)
	f.Add([]byte(`{"systemId":"s","reportId":"zr1.x.y.z","resourceCounts":[]}`), false)
	f.Add([]byte(`{"systemId":"s","resourceCounts":[{"parentType":7}]}`), false)

	sink := &consumertest.MetricsSink{}
	cfg := createDefaultConfig().(*Config)
	r, err := newTelemetryReceiver(cfg, receivertest.NewNopSettings(metadata.Type), sink)
	require.NoError(f, err)
	_, countsPath := officialMethods(f)
	handler := telemetryservice.NewHTTPHandler(r, telemetryservice.HTTPOptions{Path: "/p", MaxBodyBytes: 1 << 20, Decoding: r.decoding()})

	f.Fuzz(func(t *testing.T, body []byte, binary bool) {
		sink.Reset()
		path, contentType := "/p/resource_counts", "application/json"
		want := &analytics.ReportResourceCountsRequest{}
		// Unknown members are skipped, so that a newer client still reports.
		decodeErr := protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(body, want)
		if binary {
			path, contentType = "/p"+countsPath, "application/proto"
			decodeErr = proto.Unmarshal(body, want)
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		if rec.Code != http.StatusOK {
			require.Contains(t, []int{http.StatusBadRequest, http.StatusPreconditionFailed}, rec.Code, rec.Body.String())
			require.Zero(t, sink.DataPointCount(), "a refused page emitted data")
			return
		}
		require.NoError(t, decodeErr, "a page the reference decoders refuse was taken")
		got := contracttest.Flatten(t, sink.AllMetrics())
		require.ElementsMatch(t, contracttest.ExpectedRows(want.SystemId, want.ResourceCounts, false), got.Rows)
	})
}
