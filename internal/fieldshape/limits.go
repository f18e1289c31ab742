package fieldshape

import (
	"fmt"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

// Field limits. A value beyond its limit is rejected, never cut, so that a
// page of MaxBulkSize rows surely fits one message.
const (
	// MaxIDBytes bounds instance and parent ids. ZITADEL's ids are 18-19
	// digit snowflakes; 64 leaves room for UUIDs and custom organization ids.
	MaxIDBytes = 64
	// MaxApplicationIDBytes bounds OIDC client ids and SAML entity ids: a
	// client id holds its project's name, of at most 200 characters (800
	// bytes of UTF-8) in ZITADEL.
	MaxApplicationIDBytes = 1024
	// MaxResourceNameBytes bounds resource names: ZITADEL's longest has 28.
	MaxResourceNameBytes = 63
	// MaxTableNameBytes bounds table names: schema.table, two PostgreSQL
	// identifiers of at most 63 bytes each.
	MaxTableNameBytes = 127
	// MaxSystemIDBytes bounds system ids: ZITADEL's are 86 characters.
	MaxSystemIDBytes = 128
	// MaxReportIDBytes bounds the report ids the exporter accepts from the
	// endpoint.
	MaxReportIDBytes = 128
	// MaxMessageBytes is gRPC's default maximum message size, which a
	// TelemetryService server built on grpc-go or connect-go enforces.
	MaxMessageBytes = 4 << 20
)

// The worst-case protobuf encoding of one row and of a page, from the limits
// above. Every field number is below 16, so each tag takes one byte; a length
// below 128 takes one byte, up to 16383 two.
const (
	WorstRowBytes = (1 + 1 + MaxIDBytes) + // instance_id
		(1 + 1) + // parent_type: enum value below 128
		(1 + 1 + MaxIDBytes) + // parent_id
		(1 + 1 + MaxResourceNameBytes) + // resource_name
		(1 + 1 + MaxTableNameBytes) + // table_name
		(1 + 1 + (1 + 5) + (1 + 5)) + // updated_at: seconds below 2^34 (times after 2262 are rejected), nanos below 2^30
		(1 + 5) // amount: uint32
	worstRowInPageBytes = 1 + 2 + WorstRowBytes                                   // resource_counts entry: tag, length, row
	worstPageOverhead   = (1 + 2 + MaxSystemIDBytes) + (1 + 2 + MaxReportIDBytes) // system_id, report_id
	// MaxBulkSize is the largest bulk_size whose pages always fit one message:
	// (4194304 - 262) / 351 = 11948.
	MaxBulkSize     = (MaxMessageBytes - worstPageOverhead) / worstRowInPageBytes
	DefaultBulkSize = 10000 // ZITADEL's own
)

// CheckReportID keeps pages within MaxMessageBytes: the page size limit
// counts on report ids of at most MaxReportIDBytes.
func CheckReportID(id string) error {
	if len(id) > MaxReportIDBytes {
		return consumererror.NewPermanent(fmt.Errorf(
			"the endpoint issued a report id of %d bytes; at most %d are accepted", len(id), MaxReportIDBytes))
	}
	return nil
}
