package telemetryservice

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The gRPC service decodes requests itself instead of leaving it to grpc-go,
// which answers a message it cannot decode with INTERNAL, a code clients
// retry. A body that does not decode is INVALID_ARGUMENT here, as on the
// HTTP wires, and counts pages go through the fast decoder.

// GRPCServerOptions are the options the service needs of its gRPC server;
// pass them when building it. One hands request bodies to the service
// undecoded; the other (the server's tap handle) lets a call end its stream
// when its message does not arrive within the read timeout.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{CodecV2: encoding.GetCodecV2("proto")}),
		grpc.InTapHandle(cuttable),
	}
}

// cuttable gives every stream a context the call may end: grpc-go reads a
// message until the stream's context ends, and the stream's own deadline is
// the client's to set.
func cuttable(ctx context.Context, _ *tap.Info) (context.Context, error) {
	ctx, cancel := context.WithCancel(ctx)
	return &cutContext{Context: ctx, cancel: cancel}, nil
}

// cutContext is a stream's context that the call ends, when its message
// has not arrived in time, as a deadline would: grpc-go answers the call
// with the context's error, DEADLINE_EXCEEDED rather than CANCELLED.
type cutContext struct {
	context.Context
	cancel   context.CancelFunc
	timedOut atomic.Bool
}

// cutKey finds a stream's cutContext from the call's context.
type cutKey struct{}

func (c *cutContext) Value(key any) any {
	if key == (cutKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *cutContext) Err() error {
	err := c.Context.Err()
	if err != nil && c.timedOut.Load() {
		return context.DeadlineExceeded
	}
	return err
}

// cut ends the stream.
func (c *cutContext) cut() {
	c.timedOut.Store(true)
	c.cancel()
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

// GRPCOptions bounds the gRPC service's calls.
type GRPCOptions struct {
	// MaxMessageBytes is the largest message the server takes
	// (max_recv_msg_size_mib), which a call books before its message arrives.
	MaxMessageBytes int64
	// ReadTimeout is how long a call's message may take to arrive after the
	// call began; then the stream ends and its booking is given back. Zero
	// waits as long as the client keeps the stream open. It needs the
	// server built with GRPCServerOptions.
	ReadTimeout time.Duration
}

// RegisterGRPC adds the TelemetryService, answered by h, to s.
func RegisterGRPC(s *grpc.Server, h Handler, d Decoding, opts GRPCOptions) {
	desc := grpc.ServiceDesc{
		ServiceName: analytics.TelemetryService_ServiceDesc.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "ReportBaseInformation", Handler: d.unary(h, analytics.TelemetryService_ReportBaseInformation_FullMethodName, opts, d.baseInformation)},
			{MethodName: "ReportResourceCounts", Handler: d.unary(h, analytics.TelemetryService_ReportResourceCounts_FullMethodName, opts, d.resourceCounts)},
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
	cost, err := d.admitGRPC(ctx, h, raw, held, false)
	if err != nil {
		return nil, err
	}
	req := &analytics.ReportBaseInformationRequest{}
	err = proto.Unmarshal(raw.data(), req)
	raw.release()
	_ = held.to(cost) // less than held: never refused
	if err != nil {
		return nil, refuseMalformed(ctx, h, grpcCall, "the message is not a ReportBaseInformationRequest: "+err.Error())
	}
	id, err := h.ReportBaseInformation(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportBaseInformationResponse{ReportId: id}, nil
}

func (d Decoding) resourceCounts(ctx context.Context, h Handler, raw *rawRequest, held *charge) (proto.Message, error) {
	cost, err := d.admitGRPC(ctx, h, raw, held, true)
	if err != nil {
		return nil, err
	}
	req, err := d.counts(raw.data(), true)
	raw.release()
	_ = held.to(cost) // less than held: never refused
	if err != nil {
		return nil, refuseMalformed(ctx, h, grpcCall, "the message is not a ReportResourceCountsRequest: "+err.Error())
	}
	id, err := h.ReportResourceCounts(ctx, grpcCall, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return &analytics.ReportResourceCountsResponse{ReportId: id}, nil
}

// admitGRPC admits a message as Decoding.admit does, answering a refusal
// as gRPC does; a message refused is released.
func (d Decoding) admitGRPC(ctx context.Context, h Handler, raw *rawRequest, held *charge, counts bool) (int64, error) {
	cost, reason, msg := d.admit(raw.data(), true, counts, held, int64(len(raw.data())))
	if reason == "" {
		return cost, nil
	}
	raw.release()
	switch reason {
	case ReasonInFlight:
		return 0, busy(ctx, h, msg)
	case ReasonUnknownSystem:
		h.Refused(ctx, grpcCall, reason, msg)
		return 0, status.Error(codes.PermissionDenied, msg)
	}
	return 0, refuseMalformed(ctx, h, grpcCall, msg)
}

// refuseMalformed counts a call that is not the request it claims to be
// and answers it INVALID_ARGUMENT, which each wire writes its own way.
func refuseMalformed(ctx context.Context, h Handler, call Call, msg string) error {
	h.Refused(ctx, call, ReasonMalformed, msg)
	return status.Error(codes.InvalidArgument, msg)
}

// busy refuses a call the bytes in flight leave no room for as
// RESOURCE_EXHAUSTED with a RetryInfo, which gRPC clients (the collector's
// exporters among them) take as "retry after the delay".
func busy(ctx context.Context, h Handler, msg string) error {
	h.Refused(ctx, grpcCall, ReasonInFlight, msg)
	st, detailErr := status.New(codes.ResourceExhausted, msg).WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryAfter)})
	if detailErr != nil {
		return status.Error(codes.ResourceExhausted, msg)
	}
	return st.Err()
}

// unary is what protoc-gen-go-grpc writes for a unary method, with the
// decoding moved after the interceptors (auth runs before any decoding).
// The largest message a call may send is charged to the bytes in flight
// before it is read, as its length is known only once it was: a call with
// no room is refused having cost nothing. Those bookings together are held
// to half the bytes in flight, and each to the read timeout: a stream whose
// message has not arrived by then is ended, its booking given back.
func (d Decoding) unary(h Handler, fullMethod string, opts GRPCOptions, m method) grpc.MethodHandler {
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		held := &charge{of: d.InFlight}
		defer held.release()
		if err := held.toUnread(opts.MaxMessageBytes); err != nil {
			return nil, busy(ctx, h, err.Error())
		}
		raw := &rawRequest{}
		if err := readWithin(ctx, opts.ReadTimeout, func() error { return dec(raw) }); err != nil {
			raw.release()
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

// readWithin runs read, which reads the call's message, ending the stream
// when it has not returned within timeout. A message that arrived just as
// the time ran out is refused all the same: the stream's context has ended.
func readWithin(ctx context.Context, timeout time.Duration, read func() error) error {
	stream, ok := ctx.Value(cutKey{}).(*cutContext)
	if timeout <= 0 || !ok {
		return read()
	}
	timer := time.AfterFunc(timeout, stream.cut)
	err := read()
	if timer.Stop() {
		return err
	}
	return status.Error(codes.DeadlineExceeded, fmt.Sprintf("the message did not arrive within %s, the server's read timeout", timeout))
}

// refusedByGRPC counts a message grpc-go did not hand over. grpc-go reads a
// unary request inside the method handler, through dec, and refuses one
// over max_recv_msg_size_mib there with RESOURCE_EXHAUSTED, before any of
// its bytes are read; a message that fails to decompress is malformed. A
// client that went away was not refused.
func refusedByGRPC(ctx context.Context, h Handler, err error) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded: // the client went away, or the message took too long
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
