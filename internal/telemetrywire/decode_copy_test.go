package telemetrywire

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// TestDecodedRequestsOwnTheirStrings: the servers give a body's buffer back
// (gRPC's pool) or drop it as soon as it is decoded, so nothing decoded may
// point into it. Each body is decoded, its bytes overwritten, and the
// request must still be what the body said.
func TestDecodedRequestsOwnTheirStrings(t *testing.T) {
	page := samplePage()
	base := &analytics.ReportBaseInformationRequest{
		SystemId: "sys-1", Version: "v4.13.1",
		Instances: []*analytics.InstanceInformation{{Id: "i1", Domains: []string{"a.example.com", "b.example.com"}}},
	}
	encode := func(m proto.Message, binary bool) []byte {
		var b []byte
		var err error
		if binary {
			b, err = proto.Marshal(m)
		} else {
			b, err = protojson.Marshal(m)
		}
		require.NoError(t, err)
		return b
	}
	for _, binary := range []bool{false, true} {
		decoders := map[string]struct {
			want   proto.Message
			decode func(body []byte) (proto.Message, error)
		}{
			"counts": {page, func(b []byte) (proto.Message, error) { return DecodeCounts(b, binary) }},
			"counts without times": {withoutTimes(page), func(b []byte) (proto.Message, error) {
				return DecodeCountsWithoutTimes(b, binary)
			}},
			"base information": {base, func(b []byte) (proto.Message, error) {
				m := &analytics.ReportBaseInformationRequest{}
				return m, Unmarshal(b, m, binary)
			}},
		}
		for name, d := range decoders {
			t.Run(name+map[bool]string{false: "/json", true: "/proto"}[binary], func(t *testing.T) {
				body := encode(d.want, binary)
				got, err := d.decode(body)
				require.NoError(t, err)
				copy(body, bytes.Repeat([]byte{'#'}, len(body)))
				require.True(t, proto.Equal(d.want, got), "the decoded request changed with its body:\n%v", got)
			})
		}
	}
}

func withoutTimes(page *analytics.ReportResourceCountsRequest) *analytics.ReportResourceCountsRequest {
	out := proto.Clone(page).(*analytics.ReportResourceCountsRequest)
	for _, rc := range out.ResourceCounts {
		rc.UpdatedAt = nil
	}
	return out
}
