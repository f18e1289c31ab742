package telemetrywire

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// CountsCodec is gRPC's proto codec, except that ReportResourceCounts pages
// go through decodeCountsProto.
type CountsCodec struct {
	encoding.CodecV2
}

func NewCountsCodec() CountsCodec {
	return CountsCodec{CodecV2: encoding.GetCodecV2("proto")}
}

func (c CountsCodec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*analytics.ReportResourceCountsRequest)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return decodeCountsProto(buf.ReadOnlyData(), req, false)
}
