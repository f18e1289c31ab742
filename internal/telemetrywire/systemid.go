package telemetrywire

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// systemIDField is system_id's number in both requests.
const systemIDField protowire.Number = 1

// SystemID reads a request's system id and nothing else: the rest of the
// body is stepped over, not decoded, so that a call from a system the
// receiver does not take costs no more than its bytes. The last system id
// wins, as in protojson (which refuses a repeated one later) and
// proto.Unmarshal. ok is false when the body is not a message at all or
// names no system.
func SystemID(body []byte, binary bool) (id string, ok bool) {
	if binary {
		return systemIDProto(body)
	}
	return systemIDJSON(body)
}

func systemIDProto(b []byte) (id string, ok bool) {
	found := false
	valid := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		if num == systemIDField && typ == protowire.BytesType {
			if !utf8.Valid(v) {
				return false
			}
			id, found = string(v), true
		}
		return true
	})
	return id, valid && found
}

func systemIDJSON(data []byte) (id string, ok bool) {
	s := &jsonScanner{data: data, ok: true}
	s.object(func(key []byte) bool {
		if !jsonKeyIs(key, "systemId", "system_id") {
			return s.skipValue()
		}
		start := s.pos
		if !s.skipValue() {
			return false
		}
		var v string
		if json.Unmarshal(s.data[start:s.pos], &v) != nil {
			return false
		}
		id, ok = v, true
		return true
	})
	s.skipSpace()
	if !s.ok || s.pos != len(s.data) {
		return "", false
	}
	return id, ok
}

// jsonKeyIs compares a key as scanned (without unescaping: a key written
// with escapes is taken as an unknown member).
func jsonKeyIs(key []byte, names ...string) bool {
	for _, n := range names {
		if string(key) == n {
			return true
		}
	}
	return false
}

// skipValue steps over one JSON value of any kind, nested ones included,
// without allocating.
func (s *jsonScanner) skipValue() bool {
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] == ',' || s.data[s.pos] == '}' || s.data[s.pos] == ']' {
		s.ok = false // no value
		return false
	}
	depth := 0
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case '"':
			if !s.skipString() {
				return false
			}
		case '{', '[':
			depth++
			s.pos++
		case '}', ']':
			depth--
			s.pos++
		default:
			s.pos++
		}
		if depth == 0 && s.atValueEnd() {
			return true
		}
	}
	if depth != 0 {
		s.ok = false
	}
	return s.ok
}

// atValueEnd says whether a top-level value just ended: what follows is a
// separator or the end of the enclosing object.
func (s *jsonScanner) atValueEnd() bool {
	p := s.pos
	for p < len(s.data) && (s.data[p] == ' ' || s.data[p] == '\t' || s.data[p] == '\n' || s.data[p] == '\r') {
		p++
	}
	return p >= len(s.data) || s.data[p] == ',' || s.data[p] == '}' || s.data[p] == ']'
}

// skipString steps over a string, escapes included. A string without a
// backslash before its closing quote, as nearly all are, is found by
// IndexByte's vectorised search.
func (s *jsonScanner) skipString() bool {
	s.pos++ // the opening quote
	if q := bytes.IndexByte(s.data[s.pos:], '"'); q >= 0 && bytes.IndexByte(s.data[s.pos:s.pos+q], '\\') < 0 {
		s.pos += q + 1
		return true
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			s.pos++
			return true
		case '\\':
			s.pos += 2
		default:
			s.pos++
		}
	}
	s.ok = false
	return false
}

// Fields of a ReportBaseInformationRequest and its InstanceInformation.
const (
	instancesField protowire.Number = 3
	domainsField   protowire.Number = 2
)

// InstanceCount is how many instances a base information names, and the
// most domains one of them has.
type InstanceCount struct {
	Instances, MostDomains int
}

// CountInstances counts a ReportBaseInformationRequest's instances and their
// domains without decoding them, so that a call naming more than a receiver
// takes is refused before it costs memory. ok is false for a body that is not
// a message; the decoder then says why.
func CountInstances(body []byte, binary bool) (InstanceCount, bool) {
	if binary {
		return countInstancesProto(body)
	}
	return countInstancesJSON(body)
}

func countInstancesProto(b []byte) (InstanceCount, bool) {
	var c InstanceCount
	ok := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) bool {
		if num != instancesField || typ != protowire.BytesType {
			return true
		}
		c.Instances++
		domains := 0
		ok := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte) bool {
			if num == domainsField && typ == protowire.BytesType {
				domains++
			}
			return true
		})
		c.MostDomains = max(c.MostDomains, domains)
		return ok
	})
	return c, ok
}

// eachField calls field with every field of a message, the value of a
// length-delimited one unwrapped; it stops when field returns false.
func eachField(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return false
		}
		v := b[:n]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if !field(num, typ, v) {
			return false
		}
		b = b[n:]
	}
	return true
}

func countInstancesJSON(data []byte) (InstanceCount, bool) {
	var c InstanceCount
	s := &jsonScanner{data: data, ok: true}
	s.object(func(key []byte) bool {
		if !jsonKeyIs(key, "instances") {
			return s.skipValue()
		}
		return s.array(func() bool {
			c.Instances++
			if s.skipSpace(); s.pos < len(s.data) && s.data[s.pos] == 'n' {
				return s.skipValue() // null, which protojson refuses
			}
			domains := 0
			s.object(func(key []byte) bool {
				if !jsonKeyIs(key, "domains") {
					return s.skipValue()
				}
				return s.array(func() bool {
					domains++
					return s.skipValue()
				})
			})
			c.MostDomains = max(c.MostDomains, domains)
			return s.ok
		})
	})
	s.skipSpace()
	return c, s.ok && s.pos == len(s.data)
}

// array reads the elements of an array, or null, calling element for each.
func (s *jsonScanner) array(element func() bool) bool {
	s.skipSpace()
	if s.pos+4 <= len(s.data) && string(s.data[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return true
	}
	s.expect('[')
	if !s.ok || s.consume(']') {
		return s.ok
	}
	for s.ok {
		if !element() {
			s.ok = false
			return false
		}
		if s.consume(']') {
			return true
		}
		s.expect(',')
	}
	return false
}
