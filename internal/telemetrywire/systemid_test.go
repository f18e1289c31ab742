package telemetrywire

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// TestSystemIDReadsWhatTheDecoderWould: the system id read alone is the one
// protojson and proto.Unmarshal decode, wherever it stands in the body.
func TestSystemIDReadsWhatTheDecoderWould(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		id   string
		ok   bool
	}{
		{"first", `{"systemId":"sys-1","resourceCounts":[{"instanceId":"i"}]}`, "sys-1", true},
		{"last, after nested values", `{"reportId":"r","resourceCounts":[{"a":[1,{"b":"}]"}],"c":null},{}],"x":-1.5e3,"system_id":"sys-2"}`, "sys-2", true},
		{"escaped value", `{"systemId":"sys\u002d3"}`, "sys-3", true},
		{"escaped quote before it", `{"version":"a\"b","systemId":"s4"}`, "s4", true},
		{"spaces", " {\n\"systemId\" : \"s5\" \n} ", "s5", true},
		{"missing", `{"reportId":"r"}`, "", false},
		{"not an object", `["systemId","s"]`, "", false},
		{"cut short", `{"resourceCounts":[{"instanceId":"i"`, "", false},
		{"no value", `{"systemId":}`, "", false},
		{"trailing bytes", `{"systemId":"s"}x`, "", false},
		{"a number", `{"systemId":7}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := SystemID([]byte(tc.body), false)
			if id != tc.id || ok != tc.ok {
				t.Errorf("SystemID = %q, %v; want %q, %v", id, ok, tc.id, tc.ok)
			}
			if tc.ok {
				var req analytics.ReportBaseInformationRequest
				if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(tc.body), &req); err == nil && req.SystemId != id {
					t.Errorf("protojson reads %q", req.SystemId)
				}
			}
		})
	}

	page, err := proto.Marshal(&analytics.ReportResourceCountsRequest{
		SystemId: "sys-proto", ReportId: proto.String("r"),
		ResourceCounts: []*analytics.ResourceCount{{InstanceId: "i", UpdatedAt: timestamppb.Now()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := SystemID(page, true); id != "sys-proto" || !ok {
		t.Errorf("protobuf: %q, %v", id, ok)
	}
	if _, ok := SystemID(page[:len(page)-1], true); ok {
		t.Error("a message cut short names a system")
	}
	if _, ok := SystemID([]byte{0x0a, 0x01, 0xff}, true); ok {
		t.Error("a system id that is not UTF-8 was read")
	}
}

func TestCountInstances(t *testing.T) {
	base := &analytics.ReportBaseInformationRequest{SystemId: "s", Version: "v4", Instances: []*analytics.InstanceInformation{
		{Id: "a", Domains: []string{"a.example.com"}, CreatedAt: timestamppb.Now()},
		{Id: "b", Domains: []string{"b.example.com", "b2.example.com", "b3.example.com"}},
		{Id: "c"},
	}}
	want := InstanceCount{Instances: 3, MostDomains: 3}
	js, err := protojson.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := proto.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		body   []byte
		binary bool
	}{"json": {js, false}, "protobuf": {pb, true}} {
		if got, ok := CountInstances(tc.body, tc.binary); got != want || !ok {
			t.Errorf("%s: %+v, %v; want %+v", name, got, ok, want)
		}
	}
	for _, body := range []string{`{"instances":null,"domains":[1,2]}`, `{"instances":[],"systemId":"s"}`} {
		if got, ok := CountInstances([]byte(body), false); got != (InstanceCount{}) || !ok {
			t.Errorf("%s: %+v, %v", body, got, ok)
		}
	}
	for _, body := range []string{`{"instances":[{"id":"a"}`, `{"inst\u0061nces":[{}]}`, `{"instances":{}}`} {
		if _, ok := CountInstances([]byte(body), false); ok {
			t.Errorf("%s was counted", body)
		}
	}
}
