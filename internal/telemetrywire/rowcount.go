package telemetrywire

import "google.golang.org/protobuf/encoding/protowire"

// resourceCountsField is resource_counts' number in a ReportResourceCountsRequest.
const resourceCountsField protowire.Number = 3

// CountRows counts a ReportResourceCountsRequest's rows without decoding
// them, so that a page with more rows than a receiver takes is refused
// before it costs memory: an empty row is two bytes of protobuf or three of
// JSON, and decodes to a hundred bytes and more. ok is false for a body that
// is not a message (a key written with escapes included, which ZITADEL's
// client never writes); the caller refuses it undecoded.
func CountRows(body []byte, binary bool) (rows int, ok bool) {
	if binary {
		ok = eachField(body, func(num protowire.Number, typ protowire.Type, _ []byte) bool {
			if num == resourceCountsField && typ == protowire.BytesType {
				rows++
			}
			return true
		})
		return rows, ok
	}
	s := &jsonScanner{data: body, ok: true}
	s.object(func(key []byte) bool {
		if !jsonKeyIs(key, "resourceCounts", "resource_counts") {
			return s.skipValue()
		}
		return s.array(func() bool {
			rows++
			return s.skipValue()
		})
	})
	s.skipSpace()
	return rows, s.ok && s.pos == len(s.data)
}
