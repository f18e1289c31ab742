package zitadeltelemetry

import (
	"fmt"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

// Field limits. A value beyond its limit is rejected, never cut, so that a
// page of maxBulkSize rows surely fits one message.
const (
	// maxIDBytes bounds instance and parent ids. ZITADEL's ids are 18-19
	// digit snowflakes; 64 leaves room for UUIDs and custom organization ids.
	maxIDBytes = 64
	// maxResourceNameBytes bounds resource names: ZITADEL's longest has 28.
	maxResourceNameBytes = 63
	// maxTableNameBytes bounds table names: schema.table, two PostgreSQL
	// identifiers of at most 63 bytes each.
	maxTableNameBytes = 127
	// maxSystemIDBytes bounds system ids: ZITADEL's are 86 characters.
	maxSystemIDBytes = 128
	// maxReportIDBytes bounds the report ids the exporter accepts from the
	// endpoint.
	maxReportIDBytes = 128
	// maxMessageBytes is gRPC's default maximum message size, which a
	// TelemetryService server built on grpc-go or connect-go enforces.
	maxMessageBytes = 4 << 20
)

// The worst-case protobuf encoding of one row and of a page, from the limits
// above. Every field number is below 16, so each tag takes one byte; a length
// below 128 takes one byte, up to 16383 two.
const (
	worstRowBytes = (1 + 1 + maxIDBytes) + // instance_id
		(1 + 1) + // parent_type: enum value below 128
		(1 + 1 + maxIDBytes) + // parent_id
		(1 + 1 + maxResourceNameBytes) + // resource_name
		(1 + 1 + maxTableNameBytes) + // table_name
		(1 + 1 + (1 + 5) + (1 + 5)) + // updated_at: seconds below 2^34 (times after 2262 are rejected), nanos below 2^30
		(1 + 5) // amount: uint32
	worstRowInPageBytes = 1 + 2 + worstRowBytes                                   // resource_counts entry: tag, length, row
	worstPageOverhead   = (1 + 2 + maxSystemIDBytes) + (1 + 2 + maxReportIDBytes) // system_id, report_id
	// maxBulkSize is the largest bulk_size whose pages always fit one message:
	// (4194304 - 262) / 351 = 11948.
	maxBulkSize     = (maxMessageBytes - worstPageOverhead) / worstRowInPageBytes
	defaultBulkSize = 10000 // ZITADEL's own
)

// checkReportID keeps pages within maxMessageBytes: the page size limit
// counts on report ids of at most maxReportIDBytes.
func checkReportID(id string) error {
	if len(id) > maxReportIDBytes {
		return consumererror.NewPermanent(fmt.Errorf(
			"the endpoint issued a report id of %d bytes; at most %d are accepted", len(id), maxReportIDBytes))
	}
	return nil
}
