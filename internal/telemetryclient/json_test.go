package telemetryclient

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// requireProtojson checks that the encoder writes byte for byte what protojson
// writes (once protojson's random whitespace is taken out) and that protojson
// reads it back to the same message.
func requireProtojson(t *testing.T, req *analytics.ReportResourceCountsRequest) {
	t.Helper()
	want, err := protojson.Marshal(req)
	require.NoError(t, err)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, want))
	got := AppendResourceCountsJSON(nil, req)
	require.Equal(t, compact.String(), string(got))

	back := &analytics.ReportResourceCountsRequest{}
	require.NoError(t, protojson.Unmarshal(got, back))
	require.True(t, proto.Equal(req, back), "round trip changed the message:\n%v\n%v", req, back)
}

func ptr(s string) *string { return &s }

func TestAppendResourceCountsJSONMatchesProtojson(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	shared := timestamppb.New(at)
	row := func(mod func(*analytics.ResourceCount)) *analytics.ResourceCount {
		rc := &analytics.ResourceCount{
			InstanceId: "312345678901234567", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
			ParentId: "312345678901234568", ResourceName: "user", TableName: "projections.users14", UpdatedAt: shared, Amount: 42,
		}
		if mod != nil {
			mod(rc)
		}
		return rc
	}
	tests := map[string]*analytics.ReportResourceCountsRequest{
		"empty":                   {},
		"no report id":            {SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{row(nil)}},
		"empty report id is sent": {SystemId: "sys", ReportId: ptr(""), ResourceCounts: []*analytics.ResourceCount{row(nil)}},
		"zero values left out": {SystemId: "sys", ReportId: ptr("r"), ResourceCounts: []*analytics.ResourceCount{
			row(func(rc *analytics.ResourceCount) {
				rc.Amount, rc.TableName, rc.UpdatedAt = 0, "", nil
				rc.ParentType = analytics.CountParentType_COUNT_PARENT_TYPE_UNSPECIFIED
			}),
			{},
		}},
		"instance parent and max amount": {SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{row(func(rc *analytics.ResourceCount) {
			rc.ParentType, rc.Amount = analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, 4294967295
		})}},
		"unknown enum number": {SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{row(func(rc *analytics.ResourceCount) {
			rc.ParentType = 7
		})}},
		"fractions of a second": {SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(123 * time.Millisecond)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(120 * time.Millisecond)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(123456 * time.Microsecond)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(4 * time.Microsecond)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(1)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(at.Add(999999999)) }),
			row(func(rc *analytics.ResourceCount) { rc.UpdatedAt = timestamppb.New(time.Unix(0, 0)) }),
			row(func(rc *analytics.ResourceCount) {
				rc.UpdatedAt = timestamppb.New(time.Unix(0, 18446744073709551615&(1<<63-1)))
			}),
		}},
		"strings that need escaping": {SystemId: "s\"y\\s", ReportId: ptr("r/\n\t\r\b\f\x00\x1f\x7f"), ResourceCounts: []*analytics.ResourceCount{
			row(func(rc *analytics.ResourceCount) {
				rc.InstanceId, rc.ParentId, rc.ResourceName, rc.TableName = "ünïcödé", "日本語", "<&>", "\u2028\u2029"
			}),
		}},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) { requireProtojson(t, req) })
	}
}

func TestAppendResourceCountsJSONTimestampCacheFollowsValues(t *testing.T) {
	// One *Timestamp reused with a new value must not be written stale.
	ts := timestamppb.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	req := &analytics.ReportResourceCountsRequest{ResourceCounts: []*analytics.ResourceCount{{UpdatedAt: ts}}}
	first := string(AppendResourceCountsJSON(nil, req))
	ts.Seconds += 3600
	second := string(AppendResourceCountsJSON(nil, req))
	assert.Contains(t, first, "2025-01-01T00:00:00Z")
	assert.Contains(t, second, "2025-01-01T01:00:00Z")
}

func FuzzAppendResourceCountsJSON(f *testing.F) {
	f.Add("sys", "r-1", "3123", int32(2), "3124", "user", "projections.users14", int64(1735787045), int32(123000000), uint32(42))
	f.Add("", "", "", int32(0), "", "", "", int64(0), int32(0), uint32(0))
	f.Add("\x00\"\\", "\u2028", "ü", int32(1), "\t", "<>", "&", int64(-62135596800), int32(1), uint32(4294967295))
	f.Fuzz(func(t *testing.T, systemID, reportID, instanceID string, parentType int32, parentID, resource, table string, seconds int64, nanos int32, amount uint32) {
		req := &analytics.ReportResourceCountsRequest{SystemId: systemID, ReportId: &reportID, ResourceCounts: []*analytics.ResourceCount{{
			InstanceId: instanceID, ParentType: analytics.CountParentType(parentType), ParentId: parentID, ResourceName: resource,
			TableName: table, UpdatedAt: &timestamppb.Timestamp{Seconds: seconds, Nanos: nanos}, Amount: amount,
		}}}
		if _, err := protojson.Marshal(req); err != nil {
			t.Skip("not a valid message (invalid UTF-8 or timestamp out of range); the exporter never builds one")
		}
		requireProtojson(t, req)
	})
}
