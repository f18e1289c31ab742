package telemetryclient

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// AppendResourceCountsJSON appends req as protojson writes it (lowerCamelCase
// names, enum names, RFC 3339 timestamps with 0, 3, 6 or 9 fractional digits,
// zero values left out), minus protojson's random whitespace. A page holds up
// to tens of thousands of rows and protojson spends microseconds on each; this
// encoder is an order of magnitude faster. Strings must be valid UTF-8, as
// proto3 requires; the exporter rejects rows that are not. It stays written by
// hand on purpose, because it is what makes the http wire fast; json_test.go
// (a table and a fuzz target) holds its output to what protojson decodes.
func AppendResourceCountsJSON(b []byte, req *analytics.ReportResourceCountsRequest) []byte {
	b = append(b, '{')
	first := true
	if req.SystemId != "" {
		b = appendKey(b, "systemId", &first)
		b = appendJSONString(b, req.SystemId)
	}
	if req.ReportId != nil {
		b = appendKey(b, "reportId", &first)
		b = appendJSONString(b, *req.ReportId)
	}
	if len(req.ResourceCounts) > 0 {
		b = appendKey(b, "resourceCounts", &first)
		b = append(b, '[')
		var ts timestampCache
		for i, rc := range req.ResourceCounts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResourceCount(b, rc, &ts)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendResourceCount(b []byte, rc *analytics.ResourceCount, ts *timestampCache) []byte {
	b = append(b, '{')
	first := true
	if rc.InstanceId != "" {
		b = appendKey(b, "instanceId", &first)
		b = appendJSONString(b, rc.InstanceId)
	}
	if rc.ParentType != analytics.CountParentType_COUNT_PARENT_TYPE_UNSPECIFIED {
		b = appendKey(b, "parentType", &first)
		if name, ok := analytics.CountParentType_name[int32(rc.ParentType)]; ok {
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, '"')
		} else {
			b = strconv.AppendInt(b, int64(rc.ParentType), 10)
		}
	}
	if rc.ParentId != "" {
		b = appendKey(b, "parentId", &first)
		b = appendJSONString(b, rc.ParentId)
	}
	if rc.ResourceName != "" {
		b = appendKey(b, "resourceName", &first)
		b = appendJSONString(b, rc.ResourceName)
	}
	if rc.TableName != "" {
		b = appendKey(b, "tableName", &first)
		b = appendJSONString(b, rc.TableName)
	}
	if rc.UpdatedAt != nil {
		b = appendKey(b, "updatedAt", &first)
		b = ts.append(b, rc.UpdatedAt)
	}
	if rc.Amount != 0 {
		b = appendKey(b, "amount", &first)
		b = strconv.AppendUint(b, uint64(rc.Amount), 10)
	}
	return append(b, '}')
}

func appendKey(b []byte, key string, first *bool) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// timestampCache remembers the last timestamp written: the rows of one scrape
// share one observation time, usually one *Timestamp.
type timestampCache struct {
	last    *timestamppb.Timestamp
	seconds int64
	nanos   int32
	text    []byte
}

func (c *timestampCache) append(b []byte, ts *timestamppb.Timestamp) []byte {
	if c.last != ts || c.seconds != ts.Seconds || c.nanos != ts.Nanos {
		c.last, c.seconds, c.nanos = ts, ts.Seconds, ts.Nanos
		c.text = appendTimestamp(c.text[:0], ts.Seconds, ts.Nanos)
	}
	return append(b, c.text...)
}

// appendTimestamp writes what protojson writes for a google.protobuf.Timestamp.
func appendTimestamp(b []byte, seconds int64, nanos int32) []byte {
	b = append(b, '"')
	b = time.Unix(seconds, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05")
	if nanos != 0 {
		var frac [9]byte
		for i, n := 8, nanos; i >= 0; i, n = i-1, n/10 {
			frac[i] = byte('0' + n%10)
		}
		digits := 9
		switch {
		case nanos%1_000_000 == 0:
			digits = 3
		case nanos%1_000 == 0:
			digits = 6
		}
		b = append(b, '.')
		b = append(b, frac[:digits]...)
	}
	return append(b, 'Z', '"')
}

// appendJSONString escapes exactly what protojson escapes: quote, backslash
// and control characters.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= ' ' && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func hexDigit(n byte) byte { return "0123456789abcdef"[n] }

// estimateCountsJSON sizes the buffer of a page so it is allocated once.
func estimateCountsJSON(req *analytics.ReportResourceCountsRequest) int {
	const perRow = len(`{"instanceId":"","parentType":"COUNT_PARENT_TYPE_ORGANIZATION","parentId":"","resourceName":"","tableName":"","updatedAt":"2006-01-02T15:04:05.000000000Z","amount":4294967295},`)
	n := 64 + len(req.SystemId) + len(req.GetReportId())
	for _, rc := range req.ResourceCounts {
		n += perRow + len(rc.InstanceId) + len(rc.ParentId) + len(rc.ResourceName) + len(rc.TableName)
	}
	return n
}
