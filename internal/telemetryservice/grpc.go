package telemetryservice

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

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

// rawRequest is a request body as it arrived, in a buffer of gRPC's pool.
// Both decoders copy what they keep, so the buffer goes back to the pool as
// soon as the body is decoded, before the metrics are built and consumed:
// a page in flight holds its rows and metrics, not its bytes as well.
type rawRequest struct{ buf mem.Buffer }

// data is the body; it must not be read after release.
func (r *rawRequest) data() []byte {
	return r.buf.ReadOnlyData()
}

// release returns the buffer to the pool; it may be called more than once.
func (r *rawRequest) release() {
	if r.buf != nil {
		r.buf.Free()
		r.buf = nil
	}
}

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

// RegisterGRPC adds the TelemetryService, answered by h, to s, whose
// messages are at most maxMessageBytes (max_recv_msg_size_mib).
func RegisterGRPC(s *grpc.Server, h Handler, d Decoding, maxMessageBytes int) {
	desc := grpc.ServiceDesc{
		ServiceName: analytics.TelemetryService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "ReportBaseInformation", Handler: d.unary(h, analytics.TelemetryService_ReportBaseInformation_FullMethodName, maxMessageBytes, d.baseInformation)},
			{MethodName: "ReportResourceCounts", Handler: d.unary(h, analytics.TelemetryService_ReportResourceCounts_FullMethodName, maxMessageBytes, d.resourceCounts)},
		},
		Metadata: analytics.TelemetryService_ServiceDesc.Metadata,
	}
	s.RegisterService(&desc, h)
}

var grpcCall = Call{Wire: WireGRPC, Binary: true}

// method decodes a body, releases it and answers the call; held is what
// the call holds of the bytes in flight, its body's length so far.
type method func(ctx context.Context, h Handler, raw *rawRequest, held *charge) (proto.Message, error)

func (d Decoding) baseInformation(ctx context.Context, h Handler, raw *rawRequest, held *charge) (proto.Message, error) {
	if err := d.refuseUnknownSystem(ctx, h, raw); err != nil {
		return nil, err
	}
	cost, err := d.admit(ctx, h, raw, held, false)
	if err != nil {
		return nil, err
	}
	req := &analytics.ReportBaseInformationRequest{}
	err = proto.Unmarshal(raw.data(), req)
	raw.release()
	_ = held.to(cost) // less than held: never refused
	if err != nil {
		return nil, malformed(ctx, h, "the message is not a ReportBaseInformationRequest: "+err.Error())
	}
	id, err := h.ReportBaseInformation(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportBaseInformationResponse{ReportId: id}, nil
}

func (d Decoding) resourceCounts(ctx context.Context, h Handler, raw *rawRequest, held *charge) (proto.Message, error) {
	if err := d.refuseUnknownSystem(ctx, h, raw); err != nil {
		return nil, err
	}
	cost, err := d.admit(ctx, h, raw, held, true)
	if err != nil {
		return nil, err
	}
	req, err := d.counts(raw.data(), true)
	raw.release()
	_ = held.to(cost) // less than held: never refused
	if err != nil {
		return nil, malformed(ctx, h, "the message is not a ReportResourceCountsRequest: "+err.Error())
	}
	id, err := h.ReportResourceCounts(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportResourceCountsResponse{ReportId: id}, nil
}

// admit counts what the message will cost decoded and charges it, besides
// the message, before anything is decoded; a message refused is released.
func (d Decoding) admit(ctx context.Context, h Handler, raw *rawRequest, held *charge, counts bool) (cost int64, err error) {
	cost, msg := d.bound(raw.data(), true, counts)
	if msg != "" {
		raw.release()
		return 0, malformed(ctx, h, msg)
	}
	if err := held.to(int64(len(raw.data())) + cost); err != nil {
		raw.release()
		return 0, busy(ctx, h, err)
	}
	return cost, nil
}

func (d Decoding) refuseUnknownSystem(ctx context.Context, h Handler, raw *rawRequest) error {
	msg := d.unknownSystem(raw.data(), true)
	if msg == "" {
		return nil
	}
	raw.release()
	h.Refused(ctx, grpcCall, ReasonUnknownSystem, msg)
	return status.Error(codes.PermissionDenied, msg)
}

func malformed(ctx context.Context, h Handler, msg string) error {
	h.Refused(ctx, grpcCall, ReasonMalformed, msg)
	return status.Error(codes.InvalidArgument, msg)
}

// busy refuses a call the bytes in flight leave no room for as
// RESOURCE_EXHAUSTED with a RetryInfo, which gRPC clients (the collector's
// exporters among them) take as "retry after the delay".
func busy(ctx context.Context, h Handler, err error) error {
	h.Refused(ctx, grpcCall, ReasonInFlight, err.Error())
	st, detailErr := status.New(codes.ResourceExhausted, err.Error()).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryAfter)})
	if detailErr != nil {
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return st.Err()
}

// unary is what protoc-gen-go-grpc writes for a unary method, with the
// decoding moved after the interceptors (auth runs before any decoding).
// The largest message a call may send is charged to the bytes in flight
// before it is read, as its length is known only once it was: a call with
// no room is refused having cost nothing.
func (d Decoding) unary(h Handler, fullMethod string, maxMessageBytes int, m method) grpc.MethodHandler {
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		held := &charge{of: d.InFlight}
		defer held.release()
		if err := held.to(int64(maxMessageBytes)); err != nil {
			return nil, busy(ctx, h, err)
		}
		raw := &rawRequest{}
		if err := dec(raw); err != nil {
			refusedByGRPC(ctx, h, err)
			return nil, err
		}
		defer raw.release()                 // when an interceptor refuses the call
		_ = held.to(int64(len(raw.data()))) // less than held: never refused
		if interceptor == nil {
			return m(ctx, h, raw, held)
		}
		info := &grpc.UnaryServerInfo{Server: h, FullMethod: fullMethod}
		return interceptor(ctx, raw, info, func(ctx context.Context, _ any) (any, error) { return m(ctx, h, raw, held) })
	}
}

// refusedByGRPC counts a message grpc-go did not hand over. grpc-go reads a
// unary request inside the method handler, through dec, and refuses one
// over max_recv_msg_size_mib there with RESOURCE_EXHAUSTED, before any of
// its bytes are read; a message that fails to decompress is malformed. A
// client that went away was not refused.
func refusedByGRPC(ctx context.Context, h Handler, err error) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
	case codes.ResourceExhausted:
		h.Refused(ctx, grpcCall, ReasonTooLarge, st.Message())
	default:
		h.Refused(ctx, grpcCall, ReasonMalformed, st.Message())
	}
}

func grpcError(err error) error {
	code, msg := statusOf(err)
	return status.Error(code, msg)
}
