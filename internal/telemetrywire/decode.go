package telemetrywire

import (
	"errors"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// A ReportResourceCounts page carries up to tens of thousands of rows, and
// the server's decoding is part of every benchmark of a client. protojson
// spends microseconds and proto.Unmarshal six allocations on each row; these
// decoders spend neither: rows come from one array per chunk, and the values
// that repeat (instance, parent, resource, table, time) are decoded once per
// page. Anything the JSON decoder does not expect goes to protojson, so it
// never accepts less than protojson does.

// DecodeCounts reads a ReportResourceCountsRequest body.
func DecodeCounts(body []byte, binary bool) (*analytics.ReportResourceCountsRequest, error) {
	return decodeCounts(body, binary, false)
}

// DecodeCountsWithoutTimes is DecodeCounts for a reader that does not use
// the rows' updated_at: each time is still checked, as protojson checks it,
// but not kept, which saves an allocation and 64 bytes on every row of
// ZITADEL's, where every row has its own time.
func DecodeCountsWithoutTimes(body []byte, binary bool) (*analytics.ReportResourceCountsRequest, error) {
	return decodeCounts(body, binary, true)
}

func decodeCounts(body []byte, binary, dropTimes bool) (*analytics.ReportResourceCountsRequest, error) {
	req := &analytics.ReportResourceCountsRequest{}
	if binary {
		return req, decodeCountsProto(body, req, dropTimes)
	}
	if decodeCountsJSON(body, req, dropTimes) {
		return req, nil
	}
	req = &analytics.ReportResourceCountsRequest{}
	return req, RequestJSON.Unmarshal(body, req)
}

// pageDecoder holds what one page shares.
type pageDecoder struct {
	strings map[string]string
	// lastTimeText is the text lastTime was parsed from: rows written in
	// one scrape share a time, rows of ZITADEL's table mostly have their own,
	// so the previous one is the only one worth keeping.
	lastTimeText []byte
	lastTime     *timestamppb.Timestamp
	chunk        []analytics.ResourceCount
	// prev is the row decoded before: consecutive rows mostly share the
	// instance and the parent.
	prev analytics.ResourceCount
	// dropTimes checks the rows' times without keeping them.
	dropTimes bool
}

func newPageDecoder(dropTimes bool) *pageDecoder {
	return &pageDecoder{strings: make(map[string]string), dropTimes: dropTimes}
}

// intern returns b as a string, allocating once per distinct value.
func (d *pageDecoder) intern(b []byte) string {
	if s, ok := d.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strings[s] = s
	return s
}

// internLike is intern, trying like, the same field of the previous row,
// first.
func (d *pageDecoder) internLike(b []byte, like string) string {
	if string(b) == like {
		return like
	}
	return d.intern(b)
}

func (d *pageDecoder) newRow() *analytics.ResourceCount {
	if len(d.chunk) == 0 {
		d.chunk = make([]analytics.ResourceCount, 1024)
	}
	rc := &d.chunk[0]
	d.chunk = d.chunk[1:]
	return rc
}

// decodeCountsProto reads the binary encoding, as proto.Unmarshal does:
// unknown fields are skipped, strings must be valid UTF-8.
func decodeCountsProto(b []byte, req *analytics.ReportResourceCountsRequest, dropTimes bool) error {
	d := newPageDecoder(dropTimes)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType || num < 1 || num > 3 {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch num {
		case 1:
			if !utf8.Valid(v) {
				return errInvalidUTF8
			}
			req.SystemId = string(v)
		case 2:
			if !utf8.Valid(v) {
				return errInvalidUTF8
			}
			id := string(v)
			req.ReportId = &id
		case 3:
			rc := d.newRow()
			if err := d.decodeRowProto(v, rc); err != nil {
				return err
			}
			d.prev.InstanceId, d.prev.ParentId, d.prev.ResourceName, d.prev.TableName =
				rc.InstanceId, rc.ParentId, rc.ResourceName, rc.TableName
			req.ResourceCounts = append(req.ResourceCounts, rc)
		}
	}
	return nil
}

var (
	errInvalidUTF8 = errors.New("string field contains invalid UTF-8")
	errInvalidTime = errors.New("updated_at is not a time from year 1 to 9999")
)

func (d *pageDecoder) decodeRowProto(b []byte, rc *analytics.ResourceCount) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType && num >= 3 && num <= 8 && num != 4:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if num == 8 {
				ts, err := d.timestampProto(v, rc.UpdatedAt)
				if err != nil {
					return err
				}
				rc.UpdatedAt = ts
				continue
			}
			var field *string
			var like string
			switch num {
			case 3:
				field, like = &rc.InstanceId, d.prev.InstanceId
			case 5:
				field, like = &rc.ParentId, d.prev.ParentId
			case 6:
				field, like = &rc.ResourceName, d.prev.ResourceName
			case 7:
				field, like = &rc.TableName, d.prev.TableName
			}
			if string(v) == like {
				*field = like
				continue
			}
			s, known := d.strings[string(v)]
			if !known {
				if !utf8.Valid(v) {
					return errInvalidUTF8
				}
				s = d.intern(v)
			}
			*field = s
		case typ == protowire.VarintType && (num == 4 || num == 9):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if num == 4 {
				rc.ParentType = analytics.CountParentType(int32(v))
			} else {
				rc.Amount = uint32(v)
			}
		default:
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

// timestampProto decodes a google.protobuf.Timestamp; rows of one page
// usually share one. A second occurrence in a row merges into the first, as
// proto.Unmarshal does.
func (d *pageDecoder) timestampProto(b []byte, prev *timestamppb.Timestamp) (*timestamppb.Timestamp, error) {
	seconds, nanos := prev.GetSeconds(), prev.GetNanos()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.VarintType || (num != 1 && num != 2) {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 {
			seconds = int64(v)
		} else {
			nanos = int32(v)
		}
	}
	if d.dropTimes {
		if !validTime(seconds, nanos) {
			return nil, errInvalidTime
		}
		return nil, nil
	}
	if last := d.lastTime; last != nil && last.Seconds == seconds && last.Nanos == nanos {
		return last, nil
	}
	d.lastTime = &timestamppb.Timestamp{Seconds: seconds, Nanos: nanos}
	return d.lastTime, nil
}

// jsonScanner walks the JSON that protojson writes. ok turns false at the
// first thing it does not expect, and the caller falls back to protojson.
type jsonScanner struct {
	data []byte
	pos  int
	ok   bool
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// consume reports whether the next byte is c, and steps over it.
func (s *jsonScanner) consume(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *jsonScanner) expect(c byte) {
	if !s.consume(c) {
		s.ok = false
	}
}

// str reads a string without escapes and returns its bytes, valid UTF-8.
func (s *jsonScanner) str() []byte {
	if !s.consume('"') {
		s.ok = false
		return nil
	}
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c == '"':
			v := s.data[start:s.pos]
			s.pos++
			if !utf8.Valid(v) {
				s.ok = false
			}
			return v
		case c == '\\' || c < ' ':
			s.ok = false
			return nil
		}
		s.pos++
	}
	s.ok = false
	return nil
}

// uint reads a plain non-negative integer of at most maxValue.
func (s *jsonScanner) uint(maxValue uint64) uint64 {
	s.skipSpace()
	start := s.pos
	var v uint64
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		v = v*10 + uint64(s.data[s.pos]-'0')
		s.pos++
		if v > maxValue {
			s.ok = false
			return 0
		}
	}
	if s.pos == start || (s.data[start] == '0' && s.pos-start > 1) {
		s.ok = false
	}
	return v
}

// object reads the members of an object, calling member with each key; it
// stops when member or the scanner fails.
func (s *jsonScanner) object(member func(key []byte) bool) {
	s.expect('{')
	if !s.ok || s.consume('}') {
		return
	}
	for s.ok {
		key := s.str()
		s.expect(':')
		if !s.ok || !member(key) {
			s.ok = false
			return
		}
		if s.consume('}') {
			return
		}
		s.expect(',')
	}
}

func decodeCountsJSON(data []byte, req *analytics.ReportResourceCountsRequest, dropTimes bool) bool {
	d := newPageDecoder(dropTimes)
	s := &jsonScanner{data: data, ok: true}
	var seen uint8
	once := func(bit uint8) bool {
		if seen&bit != 0 {
			return false // protojson refuses a repeated member
		}
		seen |= bit
		return true
	}
	s.object(func(key []byte) bool {
		switch string(key) {
		case "systemId", "system_id":
			req.SystemId = string(s.str())
			return once(1)
		case "reportId", "report_id":
			id := string(s.str())
			req.ReportId = &id
			return once(2)
		case "resourceCounts", "resource_counts":
			s.expect('[')
			if !s.ok || s.consume(']') {
				return once(4)
			}
			for s.ok {
				rc := d.newRow()
				d.rowJSON(s, rc)
				d.prev.InstanceId, d.prev.ParentId = rc.InstanceId, rc.ParentId
				req.ResourceCounts = append(req.ResourceCounts, rc)
				if s.consume(']') {
					break
				}
				s.expect(',')
			}
			return once(4)
		}
		return false
	})
	s.skipSpace()
	return s.ok && s.pos == len(s.data)
}

func (d *pageDecoder) rowJSON(s *jsonScanner, rc *analytics.ResourceCount) {
	var seen uint8
	s.object(func(key []byte) bool {
		var bit uint8
		switch string(key) {
		case "instanceId", "instance_id":
			bit, rc.InstanceId = 1, d.internLike(s.str(), d.prev.InstanceId)
		case "parentType", "parent_type":
			bit = 2
			name := s.str()
			v, known := analytics.CountParentType_value[string(name)]
			if !known {
				return false
			}
			rc.ParentType = analytics.CountParentType(v)
		case "parentId", "parent_id":
			bit, rc.ParentId = 4, d.internLike(s.str(), d.prev.ParentId)
		case "resourceName", "resource_name":
			bit, rc.ResourceName = 8, d.intern(s.str())
		case "tableName", "table_name":
			bit, rc.TableName = 16, d.intern(s.str())
		case "updatedAt", "updated_at":
			bit = 32
			ts, ok := d.timestampJSON(s.str())
			if !ok {
				return false
			}
			rc.UpdatedAt = ts
		case "amount":
			bit, rc.Amount = 64, uint32(s.uint(1<<32-1))
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// timestampJSON parses an RFC 3339 time as protojson does, once per run of
// rows with the same text.
func (d *pageDecoder) timestampJSON(text []byte) (*timestamppb.Timestamp, bool) {
	if d.lastTime != nil && string(text) == string(d.lastTimeText) {
		return d.lastTime, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(text))
	if err != nil {
		return nil, false
	}
	seconds, nanos := t.Unix(), int32(t.Nanosecond())
	if !validTime(seconds, nanos) {
		return nil, false
	}
	if d.dropTimes {
		return nil, true
	}
	ts := &timestamppb.Timestamp{Seconds: seconds, Nanos: nanos}
	d.lastTime, d.lastTimeText = ts, append(d.lastTimeText[:0], text...)
	return ts, true
}

// validTime is timestamppb's CheckValid without a message: years 1 to 9999.
func validTime(seconds int64, nanos int32) bool {
	const minSeconds, maxSeconds = -62135596800, 253402300799 // 0001-01-01, 9999-12-31T23:59:59
	return seconds >= minSeconds && seconds <= maxSeconds && nanos >= 0 && nanos < 1e9
}
