package telemetryclient

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
)

type grpcClient struct {
	conn    *grpc.ClientConn
	service analytics.TelemetryServiceClient
}

// NewGRPC returns a client of zitadel.analytics.v2beta.TelemetryService over
// conn, which carries TLS, headers, auth, compression and keepalive. Close
// closes conn.
func NewGRPC(conn *grpc.ClientConn) Client {
	return &grpcClient{conn: conn, service: analytics.NewTelemetryServiceClient(conn)}
}

func (c *grpcClient) ReportBaseInformation(ctx context.Context, req *analytics.ReportBaseInformationRequest) (*analytics.ReportBaseInformationResponse, error) {
	var reached peer.Peer
	resp, err := c.service.ReportBaseInformation(ctx, req, grpc.Peer(&reached))
	return resp, classifyGRPC(err, reached.Addr != nil)
}

func (c *grpcClient) ReportResourceCounts(ctx context.Context, req *analytics.ReportResourceCountsRequest) (*analytics.ReportResourceCountsResponse, error) {
	var reached peer.Peer
	resp, err := c.service.ReportResourceCounts(ctx, req, grpc.Peer(&reached))
	return resp, classifyGRPC(err, reached.Addr != nil)
}

func (c *grpcClient) Close() error { return c.conn.Close() }

// classifyGRPC is the one place that judges a gRPC outcome. reached says
// whether the call got a connection to the endpoint: grpc-go reports a dial
// that failed here (refused, no route, TLS handshake, name resolution) as
// UNAVAILABLE too, but nothing answered, so it is not the endpoint's status.
// Such a failure stays retryable, as ZITADEL retries network errors. A status
// the endpoint sent becomes a StatusError under the shared contract; a
// google.rpc.RetryInfo detail sets the earliest retry. Errors without a
// status (none are expected from grpc-go) stay retryable.
func classifyGRPC(err error, reached bool) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if !reached {
		return &unreachedError{reason: st.Message()}
	}
	if redirect, ok := grpcRedirect(st); ok {
		return consumererror.NewPermanent(redirect)
	}
	var retryAfter time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retryAfter = ri.GetRetryDelay().AsDuration()
		}
	}
	return withRetryPolicy(&StatusError{Code: st.Code(), Message: remotetext.Redact(st.Message())}, retryAfter)
}

// grpc-go names an HTTP answer that is no gRPC answer by its status; gRPC
// follows no redirect, and a 3xx is refused as on the HTTP wires. The
// Location is not passed on by grpc-go.
const grpcHTTPStatusPrefix = "unexpected HTTP status code received from server: "

func grpcRedirect(st *status.Status) (*RedirectError, bool) {
	rest, ok := strings.CutPrefix(st.Message(), grpcHTTPStatusPrefix)
	if !ok || len(rest) < 3 {
		return nil, false
	}
	code, err := strconv.Atoi(rest[:3])
	if err != nil || code < 300 || code > 399 {
		return nil, false
	}
	return &RedirectError{HTTPStatus: code}, true
}

// unreachedError is a gRPC call that never got a connection to the telemetry
// endpoint: grpc-go's code is no answer, so CodeOf says Unknown.
type unreachedError struct{ reason string }

func (e *unreachedError) Error() string {
	return "could not reach the telemetry endpoint, nothing answered: " + e.reason
}
