package telemetryserver

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed calls
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

type grpcService struct {
	analytics.UnimplementedTelemetryServiceServer
	server *Server
}

func (g *grpcService) ReportBaseInformation(_ context.Context, req *analytics.ReportBaseInformationRequest) (*analytics.ReportBaseInformationResponse, error) {
	a := g.server.handle(TransportGRPC, req, nil)
	if a.code != codes.OK {
		return nil, grpcError(a)
	}
	return &analytics.ReportBaseInformationResponse{ReportId: a.reportID}, nil
}

func (g *grpcService) ReportResourceCounts(_ context.Context, req *analytics.ReportResourceCountsRequest) (*analytics.ReportResourceCountsResponse, error) {
	a := g.server.handle(TransportGRPC, nil, req)
	if a.code != codes.OK {
		return nil, grpcError(a)
	}
	return &analytics.ReportResourceCountsResponse{ReportId: a.reportID}, nil
}

func grpcError(a answer) error {
	st := status.New(a.code, a.message)
	if a.retryAfter > 0 {
		if withDelay, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(a.retryAfter)}); err == nil {
			st = withDelay
		}
	}
	return st.Err()
}
