package telemetryclient

import (
	"context"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
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
	resp, err := c.service.ReportBaseInformation(ctx, req)
	return resp, classifyGRPC(err)
}

func (c *grpcClient) ReportResourceCounts(ctx context.Context, req *analytics.ReportResourceCountsRequest) (*analytics.ReportResourceCountsResponse, error) {
	resp, err := c.service.ReportResourceCounts(ctx, req)
	return resp, classifyGRPC(err)
}

func (c *grpcClient) Close() error { return c.conn.Close() }

// classifyGRPC is the one place that judges a gRPC outcome. A status becomes a
// StatusError under the shared contract; a google.rpc.RetryInfo detail sets
// the earliest retry. Errors without a status (none are expected from grpc-go)
// stay retryable.
func classifyGRPC(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var retryAfter time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retryAfter = ri.GetRetryDelay().AsDuration()
		}
	}
	return withRetryPolicy(&StatusError{Code: st.Code(), Message: st.Message()}, retryAfter)
}
