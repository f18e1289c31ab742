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
	// ReasonInFlight is a call the bytes the calls in flight hold leave no
	// room for (max_bytes_in_flight), refused before it was decoded.
	ReasonInFlight = "in_flight"
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
	// InFlight, when not nil, bounds the bytes the calls on every wire hold
	// at once.
	InFlight *InFlight
}

// bound counts what a body will cost decoded, by stepping over it: the
// instances and their domains of a base information, the rows of a page.
// It says why the call is refused, or what the body will hold decoded and
// as metrics, besides itself.
func (d Decoding) bound(body []byte, binary, counts bool) (cost int64, refusal string) {
	if counts {
		rows, ok := telemetrywire.CountRows(body, binary)
		switch {
		case !ok:
			return 0, "the body is not a ReportResourceCountsRequest: its rows cannot be counted"
		case d.MaxRows > 0 && rows > d.MaxRows:
			return 0, fmt.Sprintf("resourceCounts has %d rows; this receiver takes at most %d per call (max_rows_per_page), "+
				"set ZITADEL's ServicePing.Telemetry.ResourceCount.BulkSize lower", rows, d.MaxRows)
		}
		return int64(rows) * bytesPerRow, ""
	}
	c, ok := telemetrywire.CountInstances(body, binary)
	switch {
	case !ok:
		return 0, "the body is not a ReportBaseInformationRequest: its instances cannot be counted"
	case d.MaxInstances > 0 && c.Instances > d.MaxInstances:
		return 0, fmt.Sprintf("instances has %d entries; this receiver takes at most %d per call (max_instances_per_call)", c.Instances, d.MaxInstances)
	case d.MaxDomains > 0 && c.MostDomains > d.MaxDomains:
		return 0, fmt.Sprintf("an instance has %d domains; this receiver takes at most %d per instance", c.MostDomains, d.MaxDomains)
	}
	return int64(c.Instances) * (bytesPerInstance + int64(c.MostDomains)*bytesPerDomain), ""
}

// admit holds a body to what the receiver takes before anything is
// decoded, the same on every wire: its system, what it will cost decoded,
// and room in the bytes in flight for the body (bodyBytes) and that cost,
// to which held is raised. It returns the cost, or the reason and message
// of a refusal, which each wire answers its own way.
func (d Decoding) admit(body []byte, binary, counts bool, held *charge, bodyBytes int64) (cost int64, reason, msg string) {
	if msg := d.unknownSystem(body, binary); msg != "" {
		return 0, ReasonUnknownSystem, msg
	}
	if cost, msg = d.bound(body, binary, counts); msg != "" {
		return 0, ReasonMalformed, msg
	}
	if err := held.to(bodyBytes + cost); err != nil {
		return 0, ReasonInFlight, err.Error()
	}
	return cost, "", ""
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
