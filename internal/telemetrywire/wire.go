// Package telemetrywire decodes TelemetryService requests as every server of
// this module reads them: protojson bodies (ZITADEL's wire and Connect with
// JSON), binary protobuf (Connect with application/proto) and gRPC messages.
// ReportResourceCounts pages, which carry up to tens of thousands of rows, go
// through decoders that read what protojson and proto.Unmarshal read, faster.
package telemetrywire

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// RequestJSON reads protojson bodies; unknown members are skipped, as
// ZITADEL's own client skips them in answers, so a newer client still talks
// to an older server.
var RequestJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// Unmarshal reads a request body other than a counts page.
func Unmarshal(body []byte, m proto.Message, binary bool) error {
	if binary {
		return proto.Unmarshal(body, m)
	}
	return RequestJSON.Unmarshal(body, m)
}
