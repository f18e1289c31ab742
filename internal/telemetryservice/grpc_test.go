package telemetryservice

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// trackedPool is a gRPC buffer pool that says whether its buffer came back.
type trackedPool struct{ returned bool }

func (p *trackedPool) Get(n int) *[]byte { b := make([]byte, n); return &b }
func (p *trackedPool) Put(*[]byte)       { p.returned = true }

// handoffHandler records, when a call reaches it, whether the body's buffer
// was already back in its pool, and what was refused.
type handoffHandler struct {
	pool           *trackedPool
	heldAtHandoff  []bool
	refusedReasons []string
}

func (h *handoffHandler) ReportBaseInformation(context.Context, Call, *analytics.ReportBaseInformationRequest) (string, error) {
	h.heldAtHandoff = append(h.heldAtHandoff, !h.pool.returned)
	return "id", nil
}

func (h *handoffHandler) ReportResourceCounts(context.Context, Call, *analytics.ReportResourceCountsRequest) (string, error) {
	h.heldAtHandoff = append(h.heldAtHandoff, !h.pool.returned)
	return "id", nil
}

func (h *handoffHandler) Refused(_ context.Context, _ Call, reason, _ string) {
	h.refusedReasons = append(h.refusedReasons, reason)
}

// pooledBody is what rawCodec hands over: the body in a buffer of a pool.
func pooledBody(t *testing.T, pool *trackedPool, m proto.Message) func(any) error {
	t.Helper()
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, len(body), max(len(body), 4096)) // above gRPC's pooling threshold
	copy(data, body)
	return func(v any) error {
		v.(*rawRequest).buf = mem.NewBuffer(&data, pool)
		return nil
	}
}

// TestGRPCBodyIsReleasedBeforeTheHandler: the request's bytes go back to
// gRPC's pool once decoded, before the handler builds and consumes metrics,
// with and without an interceptor, and also when an interceptor refuses.
func TestGRPCBodyIsReleasedBeforeTheHandler(t *testing.T) {
	passThrough := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		return next(ctx, req)
	}
	refusing := func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
		return nil, status.Error(codes.Unauthenticated, "no credentials")
	}
	base := &analytics.ReportBaseInformationRequest{SystemId: "sys", Instances: []*analytics.InstanceInformation{{Id: "i1"}}}
	page := &analytics.ReportResourceCountsRequest{SystemId: "sys", ResourceCounts: []*analytics.ResourceCount{
		{InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, ParentId: "i1", ResourceName: "user", Amount: 2},
	}}
	for _, tc := range []struct {
		name        string
		interceptor grpc.UnaryServerInterceptor
		refused     bool
	}{{"no interceptor", nil, false}, {"interceptor", passThrough, false}, {"interceptor refuses", refusing, true}} {
		for _, m := range []struct {
			name string
			run  method
			msg  proto.Message
		}{{"ReportBaseInformation", Decoding{}.baseInformation, base}, {"ReportResourceCounts", Decoding{DropUpdatedAt: true}.resourceCounts, page}} {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				pool := &trackedPool{}
				h := &handoffHandler{pool: pool}
				_, err := Decoding{}.unary(h, "/"+m.name, GRPCOptions{}, m.run)(nil, context.Background(), pooledBody(t, pool, m.msg), tc.interceptor)
				if tc.refused {
					if status.Code(err) != codes.Unauthenticated || len(h.heldAtHandoff) != 0 {
						t.Fatalf("the refused call got %v and reached the handler %d times", err, len(h.heldAtHandoff))
					}
				} else if err != nil || len(h.heldAtHandoff) != 1 || h.heldAtHandoff[0] {
					t.Fatalf("err %v; the handler saw the body still held: %v", err, h.heldAtHandoff)
				}
				if !pool.returned {
					t.Fatal("the body's buffer never went back to its pool")
				}
			})
		}
	}
}

// TestGRPCReadRefusalsAreCounted: what grpc-go refuses while reading the
// message reaches the Handler as a refusal with its reason; a client that
// went away is not a refusal.
func TestGRPCReadRefusalsAreCounted(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5000000 vs. 4194304)"), []string{ReasonTooLarge}},
		{status.Error(codes.Internal, "grpc: failed to decompress the received message"), []string{ReasonMalformed}},
		{status.Error(codes.Canceled, "context canceled"), nil},
		{errors.New("unexpected EOF"), []string{ReasonMalformed}},
	} {
		h := &handoffHandler{pool: &trackedPool{}}
		_, err := Decoding{}.unary(h, "/m", GRPCOptions{}, Decoding{}.baseInformation)(nil, context.Background(), func(any) error { return tc.err }, nil)
		if !errors.Is(err, tc.err) {
			t.Errorf("%v: answered %v instead of grpc-go's error", tc.err, err)
		}
		if len(h.refusedReasons) != len(tc.want) || (len(tc.want) > 0 && h.refusedReasons[0] != tc.want[0]) {
			t.Errorf("%v: counted %v, want %v", tc.err, h.refusedReasons, tc.want)
		}
	}
}
