package telemetrywire

import (
	"testing"

	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// TestCountRowsCountsWhatTheDecoderWould: the rows counted without decoding
// are the rows protojson and proto.Unmarshal decode, however the body is
// written; a body that is not a message is not counted.
func TestCountRowsCountsWhatTheDecoderWould(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		rows int
		ok   bool
	}{
		{"ZITADEL's", `{"systemId":"s","reportId":"r","resourceCounts":[{"instanceId":"i","amount":2},{"instanceId":"j"}]}`, 2, true},
		{"empty rows", `{"systemId":"s","resourceCounts":[{},{},{}]}`, 3, true},
		{"snake case, after nested values", `{"x":{"resourceCounts":[{},{}]},"resource_counts":[{"tableName":"a]}"}]}`, 1, true},
		{"no rows", `{"systemId":"s","resourceCounts":[]}`, 0, true},
		{"null", `{"systemId":"s","resourceCounts":null}`, 0, true},
		{"spaces", " {\n\"resourceCounts\" : [ {} , {} ] } ", 2, true},
		{"escaped quotes and brackets in strings", `{"systemId":"s\"]}","resourceCounts":[{"tableName":"a\"},{"},{"parentId":"\\"},{}]}`, 3, true},
		{"a string ending in an escaped backslash", `{"resourceCounts":[{"tableName":"a\\\\"},{"tableName":"\\\""}]}`, 2, true},
		{"an unterminated string after an escape", `{"resourceCounts":[{"tableName":"a\"}]}`, 0, false},
		{"cut short", `{"resourceCounts":[{},{}`, 0, false},
		{"trailing bytes", `{"resourceCounts":[{}]}x`, 0, false},
		{"an escaped key", `{"resource\u0043ounts":[{},{}]}`, 0, false},
		{"not an array", `{"resourceCounts":{}}`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, ok := CountRows([]byte(tc.body), false)
			if ok != tc.ok || (ok && rows != tc.rows) {
				t.Errorf("CountRows = %d, %v; want %d, %v", rows, ok, tc.rows, tc.ok)
			}
			if tc.ok {
				var req analytics.ReportResourceCountsRequest
				if err := RequestJSON.Unmarshal([]byte(tc.body), &req); err != nil || len(req.ResourceCounts) != rows {
					t.Errorf("protojson decodes %d rows (%v), counted %d", len(req.ResourceCounts), err, rows)
				}
			}
		})
	}
	page := &analytics.ReportResourceCountsRequest{SystemId: "s", ResourceCounts: []*analytics.ResourceCount{{}, {InstanceId: "i"}, {Amount: 7}}}
	body, err := proto.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	if rows, ok := CountRows(body, true); rows != 3 || !ok {
		t.Errorf("protobuf: CountRows = %d, %v", rows, ok)
	}
	if _, ok := CountRows(body[:len(body)-1], true); ok {
		t.Error("a protobuf body cut short was counted")
	}
}
