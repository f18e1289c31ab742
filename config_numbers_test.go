package zitadeltelemetry

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every integer key is checked, the collector's own blocks included; a
// duration is not an integer key.
func TestIntegerKeysComeFromTheConfigTypes(t *testing.T) {
	assert.Subset(t, receiverRawKeys.wholeNumbers, []string{"api::page_size", "api::max_concurrency", "api::retry::max_retries",
		"database::max_conns", "database::page_size"})
	assert.Subset(t, exporterRawKeys.wholeNumbers, []string{"bulk_size", "sending_queue::queue_size", "sending_queue::num_consumers",
		"sending_queue::batch::min_size", "sending_queue::batch::max_size", "http::write_buffer_size", "grpc::write_buffer_size"})
	assert.Subset(t, telemetryReceiverRawKeys.wholeNumbers, []string{"max_rows_per_page", "http::max_request_body_size",
		"grpc::max_recv_msg_size_mib", "grpc::max_concurrent_streams"})
	for _, keys := range [][]string{receiverRawKeys.wholeNumbers, exporterRawKeys.wholeNumbers, telemetryReceiverRawKeys.wholeNumbers} {
		assert.NotContains(t, keys, "collection_interval")
		assert.NotContains(t, keys, "timeout")
		assert.NotContains(t, keys, "report_ids::ttl")
	}
}
