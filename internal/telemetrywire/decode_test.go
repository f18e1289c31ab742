package telemetrywire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

func samplePage() *analytics.ReportResourceCountsRequest {
	ts := timestamppb.New(time.Date(2025, 6, 1, 12, 0, 0, 123000000, time.UTC))
	id := "report-7"
	return &analytics.ReportResourceCountsRequest{SystemId: "sys-1", ReportId: &id, ResourceCounts: []*analytics.ResourceCount{
		{
			InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION, ParentId: "o1",
			ResourceName: "user", TableName: "projections.users14", UpdatedAt: ts, Amount: 42,
		},
		{
			InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, ParentId: "i1",
			ResourceName: "organization", UpdatedAt: ts,
		},
		{InstanceId: "i2", ParentId: "o2", ResourceName: "ünïcödé", Amount: 4294967295},
		{},
	}}
}

// TestJSONDecoderTakesWhatProtojsonTakes feeds the bodies clients send and
// bodies the fast path leaves to protojson; the result must be protojson's.
func TestJSONDecoderTakesWhatProtojsonTakes(t *testing.T) {
	written, err := protojson.Marshal(samplePage())
	require.NoError(t, err)
	tests := map[string]struct {
		body string
		fast bool // the fast path reads it without protojson
	}{
		"protojson output":     {string(written), true},
		"indented":             {protojson.MarshalOptions{Multiline: true}.Format(samplePage()), true},
		"proto field names":    {`{"system_id":"s","report_id":"r","resource_counts":[{"instance_id":"i","parent_type":"COUNT_PARENT_TYPE_INSTANCE","parent_id":"p","resource_name":"user","table_name":"t","updated_at":"2025-01-01T00:00:00Z","amount":3}]}`, true},
		"empty":                {`{}`, true},
		"no rows":              {`{"systemId":"s","resourceCounts":[]}`, true},
		"enum as number":       {`{"resourceCounts":[{"parentType":2}]}`, false},
		"amount as string":     {`{"resourceCounts":[{"amount":"7"}]}`, false},
		"amount with exponent": {`{"resourceCounts":[{"amount":1e2}]}`, false},
		"escaped string":       {`{"systemId":"s\"1\u00e9"}`, false},
		"null member":          {`{"systemId":null}`, false},
		"time with offset":     {`{"resourceCounts":[{"updatedAt":"2025-01-01T01:00:00+01:00"}]}`, true},
		"unknown member":       {`{"systemId":"s","futureField":{"a":[1,2]}}`, false},
		"unknown enum name":    {`{"resourceCounts":[{"parentType":"COUNT_PARENT_TYPE_PROJECT"}]}`, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			want := &analytics.ReportResourceCountsRequest{}
			require.NoError(t, RequestJSON.Unmarshal([]byte(tt.body), want))
			fast := &analytics.ReportResourceCountsRequest{}
			assert.Equal(t, tt.fast, decodeCountsJSON([]byte(tt.body), fast, false))
			got, err := DecodeCounts([]byte(tt.body), false)
			require.NoError(t, err)
			assert.True(t, proto.Equal(want, got), "want %v\n got %v", want, got)
		})
	}
}

func TestJSONDecoderRefusesWhatProtojsonRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not json":         `{"systemId":`,
		"trailing data":    `{} {}`,
		"amount too large": `{"resourceCounts":[{"amount":4294967296}]}`,
		"negative amount":  `{"resourceCounts":[{"amount":-1}]}`,
		"leading zero":     `{"resourceCounts":[{"amount":042}]}`,
		"bad time":         `{"resourceCounts":[{"updatedAt":"yesterday"}]}`,
		"year 0":           `{"resourceCounts":[{"updatedAt":"0000-01-01T00:00:00Z"}]}`,
		"repeated member":  `{"systemId":"a","system_id":"b"}`,
		"invalid UTF-8":    "{\"systemId\":\"\xff\"}",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeCounts([]byte(body), false)
			assert.Error(t, err)
		})
	}
}

func TestProtoDecoderMatchesProtoUnmarshal(t *testing.T) {
	page := samplePage()
	body, err := proto.Marshal(page)
	require.NoError(t, err)
	got, err := DecodeCounts(body, true)
	require.NoError(t, err)
	assert.True(t, proto.Equal(page, got), "want %v\n got %v", page, got)
	assert.Same(t, got.ResourceCounts[0].UpdatedAt, got.ResourceCounts[1].UpdatedAt, "one time, decoded once")
	assert.Equal(t, got.ResourceCounts[0].InstanceId, got.ResourceCounts[1].InstanceId)

	_, err = DecodeCounts(append(body, 0x1a, 0x03, 0x1a, 0x01, 0xff), true) // a row whose instance id is not UTF-8
	assert.Error(t, err)
}

func FuzzDecodeCounts(f *testing.F) {
	written, _ := protojson.Marshal(samplePage())
	binary, _ := proto.Marshal(samplePage())
	f.Add(written)
	f.Add(binary)
	f.Add([]byte(`{"resource_counts":[{"amount":0,"parentType":"COUNT_PARENT_TYPE_UNSPECIFIED"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		want := &analytics.ReportResourceCountsRequest{}
		wantErr := RequestJSON.Unmarshal(body, want)
		fast := &analytics.ReportResourceCountsRequest{}
		if decodeCountsJSON(body, fast, false) {
			require.NoError(t, wantErr, "the fast path accepted what protojson refuses")
			require.True(t, proto.Equal(want, fast), "want %v\n got %v", want, fast)
		}

		want = &analytics.ReportResourceCountsRequest{}
		wantErr = proto.Unmarshal(body, want)
		got, err := DecodeCounts(body, true)
		if wantErr != nil {
			require.Error(t, err, "the binary decoder accepted what proto.Unmarshal refuses")
			return
		}
		require.NoError(t, err)
		// Unknown fields are dropped, which proto.Equal would notice.
		want.ProtoReflect().SetUnknown(nil)
		for _, rc := range want.ResourceCounts {
			rc.ProtoReflect().SetUnknown(nil)
			if rc.UpdatedAt != nil {
				rc.UpdatedAt.ProtoReflect().SetUnknown(nil)
			}
		}
		require.True(t, proto.Equal(want, got), "want %v\n got %v", want, got)
	})
}

// TestDecodingWithoutTimes reads the same rows without their times, and
// still refuses a time out of range.
func TestDecodingWithoutTimes(t *testing.T) {
	page := samplePage()
	written, err := protojson.Marshal(page)
	require.NoError(t, err)
	binary, err := proto.Marshal(page)
	require.NoError(t, err)
	for _, rc := range page.ResourceCounts {
		rc.UpdatedAt = nil
	}
	for name, body := range map[string][]byte{"json": written, "proto": binary} {
		got, err := DecodeCountsWithoutTimes(body, name == "proto")
		require.NoError(t, err)
		assert.True(t, proto.Equal(page, got), "%s: want %v\n got %v", name, page, got)
	}

	tooLate := &analytics.ReportResourceCountsRequest{ResourceCounts: []*analytics.ResourceCount{
		{UpdatedAt: &timestamppb.Timestamp{Seconds: 253402300800}},
	}}
	binary, err = proto.Marshal(tooLate)
	require.NoError(t, err)
	_, err = DecodeCountsWithoutTimes(binary, true)
	assert.ErrorContains(t, err, "year 1 to 9999")
	_, err = DecodeCountsWithoutTimes([]byte(`{"resourceCounts":[{"updatedAt":"0000-01-01T00:00:00Z"}]}`), false)
	assert.Error(t, err)
}
