package telemetryservice

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The gRPC service decodes requests itself instead of leaving it to grpc-go,
// which answers a message it cannot decode with INTERNAL, a code clients
// retry. A body that does not decode is INVALID_ARGUMENT here, as on the
// HTTP wires, and counts pages go through the fast decoder.

// GRPCCodec is the server option that hands request bodies to the service
// undecoded; pass it when building the gRPC server.
func GRPCCodec() grpc.ServerOption {
	return grpc.ForceServerCodecV2(rawCodec{CodecV2: encoding.GetCodecV2("proto")})
}

// rawRequest is a request body as it arrived, in a buffer of gRPC's pool:
// both decoders copy what they keep, so the buffer goes back once the call
// is answered instead of a copy of every page being made.
type rawRequest struct{ buf mem.Buffer }

type rawCodec struct {
	encoding.CodecV2
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if raw, ok := v.(*rawRequest); ok {
		raw.buf = data.MaterializeToBuffer(mem.DefaultBufferPool())
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// RegisterGRPC adds the TelemetryService, answered by h, to s.
func RegisterGRPC(s *grpc.Server, h Handler, d Decoding) {
	desc := grpc.ServiceDesc{
		ServiceName: analytics.TelemetryService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "ReportBaseInformation", Handler: unary(h, analytics.TelemetryService_ReportBaseInformation_FullMethodName, baseInformation)},
			{MethodName: "ReportResourceCounts", Handler: unary(h, analytics.TelemetryService_ReportResourceCounts_FullMethodName, d.resourceCounts)},
		},
		Metadata: analytics.TelemetryService_ServiceDesc.Metadata,
	}
	s.RegisterService(&desc, h)
}

var grpcCall = Call{Wire: WireGRPC, Binary: true}

// method decodes a body and answers it.
type method func(ctx context.Context, h Handler, body []byte) (proto.Message, error)

func baseInformation(ctx context.Context, h Handler, body []byte) (proto.Message, error) {
	req := &analytics.ReportBaseInformationRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		return nil, malformed(ctx, h, "the message is not a ReportBaseInformationRequest: "+err.Error())
	}
	id, err := h.ReportBaseInformation(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportBaseInformationResponse{ReportId: id}, nil
}

func (d Decoding) resourceCounts(ctx context.Context, h Handler, body []byte) (proto.Message, error) {
	req, err := d.counts(body, true)
	if err != nil {
		return nil, malformed(ctx, h, "the message is not a ReportResourceCountsRequest: "+err.Error())
	}
	id, err := h.ReportResourceCounts(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportResourceCountsResponse{ReportId: id}, nil
}

func malformed(ctx context.Context, h Handler, msg string) error {
	h.Malformed(ctx, grpcCall, msg)
	return status.Error(codes.InvalidArgument, msg)
}

// unary is what protoc-gen-go-grpc writes for a unary method, with the
// decoding moved after the interceptors (auth runs before any decoding).
func unary(h Handler, fullMethod string, m method) grpc.MethodHandler {
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		raw := &rawRequest{}
		if err := dec(raw); err != nil {
			return nil, err
		}
		defer raw.buf.Free()
		if interceptor == nil {
			return m(ctx, h, raw.buf.ReadOnlyData())
		}
		info := &grpc.UnaryServerInfo{Server: h, FullMethod: fullMethod}
		return interceptor(ctx, raw, info, func(ctx context.Context, _ any) (any, error) { return m(ctx, h, raw.buf.ReadOnlyData()) })
	}
}

func grpcError(err error) error {
	code, msg := statusOf(err)
	return status.Error(code, msg)
}
