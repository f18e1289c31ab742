// Package telemetryclient sends ZITADEL TelemetryService reports over one of
// three transports: ZITADEL's own HTTP wire (protojson POSTs to /instances and
// /resource_counts), the Connect unary protocol the ZITADEL SDKs use, and gRPC.
//
// Every transport answers in the same terms: nil, a permanent error
// (consumererror.IsPermanent), or a retryable one, possibly carrying the delay
// the server asked for (exporterhelper.NewThrottleRetry). Each transport family
// decides this in exactly one function: classifyHTTP and classifyGRPC.
package telemetryclient

import (
	"context"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// Client sends the two TelemetryService calls.
type Client interface {
	ReportBaseInformation(ctx context.Context, req *analytics.ReportBaseInformationRequest) (*analytics.ReportBaseInformationResponse, error)
	ReportResourceCounts(ctx context.Context, req *analytics.ReportResourceCountsRequest) (*analytics.ReportResourceCountsResponse, error)
	// Close releases the connections; the client is unusable afterwards.
	Close() error
}
