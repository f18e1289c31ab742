package telemetryserver

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// countsCodec is gRPC's proto codec, except that ReportResourceCounts pages
// go through decodeCountsProto.
type countsCodec struct {
	encoding.CodecV2
}

func newCountsCodec() countsCodec {
	return countsCodec{CodecV2: encoding.GetCodecV2("proto")}
}

func (c countsCodec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*analytics.ReportResourceCountsRequest)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return decodeCountsProto(buf.ReadOnlyData(), req)
}
