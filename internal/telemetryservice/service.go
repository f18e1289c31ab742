// Package telemetryservice serves the ZITADEL TelemetryService for a receiver:
// ZITADEL's own wire ({path}/instances and {path}/resource_counts, protojson)
// and the Connect unary paths on one HTTP handler, and the service itself on a
// gRPC server. It decodes, routes and answers; what a call means is up to a
// Handler, which answers with a report id or a gRPC status error.
package telemetryservice

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetrywire"
)

// Wires, as a Call names them.
const (
	WireZITADEL = "http"
	WireConnect = "connect"
	WireGRPC    = "grpc"
)

// Wires lists every wire, for what is kept per wire.
var Wires = []string{WireZITADEL, WireConnect, WireGRPC}

// Call says how a request arrived.
type Call struct {
	// Wire is WireZITADEL, WireConnect or WireGRPC.
	Wire string
	// Binary is true for protobuf bodies (gRPC, Connect with application/proto).
	Binary bool
}

// Format is the encoding of the call's body, as the Collector's receiver
// telemetry names it.
func (c Call) Format() string {
	if c.Binary {
		return "proto"
	}
	return "protojson"
}

// Handler answers the two calls with the report id to return, or with an
// error made by status.Error; any other error is answered as INTERNAL.
type Handler interface {
	ReportBaseInformation(ctx context.Context, call Call, req *analytics.ReportBaseInformationRequest) (string, error)
	ReportResourceCounts(ctx context.Context, call Call, req *analytics.ReportResourceCountsRequest) (string, error)
	// Refused is told about a call refused before it reached the methods
	// above, with one of the Reason constants.
	Refused(ctx context.Context, call Call, reason, message string)
}

// Why a call was refused before it reached the Handler's methods, as the
// receiver's refused-calls counter names it.
const (
	// ReasonMalformed is a body that does not decode.
	ReasonMalformed = "malformed"
	// ReasonTooLarge is a body over the server's limit: max_request_body_size
	// on HTTP, max_recv_msg_size_mib on gRPC.
	ReasonTooLarge = "too_large"
	// ReasonContentType is an HTTP body of a type the path does not take (415).
	ReasonContentType = "content_type"
	// ReasonMethod is an HTTP method other than POST (405).
	ReasonMethod = "method"
	// ReasonNotFound is an HTTP path that is not the service's, a missing or
	// wrong path secret included (404).
	ReasonNotFound = "not_found"
	// ReasonUnknownSystem is a system id not among the systems the receiver
	// takes, refused before the rest of the body is decoded.
	ReasonUnknownSystem = "unknown_system"
)

// Decoding says what the Handler takes of a request.
type Decoding struct {
	// DropUpdatedAt checks the rows' updated_at but leaves it out.
	DropUpdatedAt bool
	// Systems, when not empty, are the only system ids taken; a call from
	// any other is refused having read its system id alone.
	Systems map[string]struct{}
	// MaxInstances and MaxDomains bound a base information's instances and
	// each one's domains; they are counted before anything is decoded, as
	// what a call costs grows with them. Zero leaves them unbounded.
	MaxInstances, MaxDomains int
	// MaxRows bounds a page's rows, counted before anything is decoded: an
	// empty row is a few bytes and decodes to a hundred and more. Zero
	// leaves them unbounded.
	MaxRows int
}

// tooManyInstances says why a base information names more instances or
// domains than the receiver takes, or "" when it does not.
func (d Decoding) tooManyInstances(body []byte, binary bool) string {
	if d.MaxInstances <= 0 && d.MaxDomains <= 0 {
		return ""
	}
	c, ok := telemetrywire.CountInstances(body, binary)
	switch {
	case !ok:
		return "the body is not a ReportBaseInformationRequest: its instances cannot be counted"
	case d.MaxInstances > 0 && c.Instances > d.MaxInstances:
		return fmt.Sprintf("instances has %d entries; this receiver takes at most %d per call (max_instances_per_call)", c.Instances, d.MaxInstances)
	case d.MaxDomains > 0 && c.MostDomains > d.MaxDomains:
		return fmt.Sprintf("an instance has %d domains; this receiver takes at most %d per instance", c.MostDomains, d.MaxDomains)
	}
	return ""
}

// unknownSystem says why a body's system is not taken, or "" when it is.
func (d Decoding) unknownSystem(body []byte, binary bool) string {
	if len(d.Systems) == 0 {
		return ""
	}
	id, ok := telemetrywire.SystemID(body, binary)
	if !ok {
		return "the body names no systemId this receiver could read; it takes only the systems it is configured with (systems)"
	}
	if _, known := d.Systems[id]; !known {
		return "the systemId is not one of the systems this receiver takes (systems)"
	}
	return ""
}

// tooManyRows says why a page has more rows than the receiver takes, or ""
// when it does not.
func (d Decoding) tooManyRows(body []byte, binary bool) string {
	if d.MaxRows <= 0 {
		return ""
	}
	switch rows, ok := telemetrywire.CountRows(body, binary); {
	case !ok:
		return "the body is not a ReportResourceCountsRequest: its rows cannot be counted"
	case rows > d.MaxRows:
		return fmt.Sprintf("resourceCounts has %d rows; this receiver takes at most %d per call (max_rows_per_page), "+
			"set ZITADEL's ServicePing.Telemetry.ResourceCount.BulkSize lower", rows, d.MaxRows)
	}
	return ""
}

func (d Decoding) counts(body []byte, binary bool) (*analytics.ReportResourceCountsRequest, error) {
	if d.DropUpdatedAt {
		return telemetrywire.DecodeCountsWithoutTimes(body, binary)
	}
	return telemetrywire.DecodeCounts(body, binary)
}

// statusOf reads the code and message of a Handler's error.
func statusOf(err error) (codes.Code, string) {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		st := se.GRPCStatus()
		return st.Code(), st.Message()
	}
	return codes.Internal, err.Error()
}
