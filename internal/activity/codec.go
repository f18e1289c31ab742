package activity

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/axiomhq/hyperloglog"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
)

// StateFormat is the stored state's format: version 3 is version 2's
// encoding sealed with a checksum; version 2 is still read.
var StateFormat = storedform.Format{What: "activity state", Current: "zitadel.activity.v3", Previous: "zitadel.activity.v2"}

// Marshal encodes the instance's whole state: one value, so the counters,
// the read position and the users it stores always belong together.
func (in *Instance) Marshal() []byte {
	buf := StateFormat.Start(256)
	buf = appendTime(buf, in.Start)
	buf = appendTime(buf, in.Position.Cursor)
	buf = appendBool(buf, in.CaughtUp)
	buf = appendBool(buf, in.perOrganization)
	buf = appendBytes(buf, in.key)
	buf = binary.AppendUvarint(buf, uint64(len(in.Position.Seen)))
	for k, t := range in.Position.Seen {
		buf = appendString(buf, k.AggregateID)
		buf = binary.AppendUvarint(buf, k.Sequence)
		buf = appendTime(buf, t)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.logins)))
	for k, n := range in.counters.logins {
		buf = appendString(buf, k.Protocol)
		buf = appendString(buf, k.Application)
		buf = appendString(buf, k.Organization)
		buf = appendString(buf, k.Kind)
		buf = appendBool(buf, k.MultiFactor)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.checks)))
	for k, n := range in.counters.checks {
		buf = appendString(buf, k.Organization)
		buf = appendString(buf, k.Factor)
		buf = appendString(buf, k.Outcome)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.lockouts)))
	for org, n := range in.counters.lockouts {
		buf = appendString(buf, org)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.users)))
	for k, s := range in.users {
		buf = appendString(buf, k.parentType)
		buf = appendString(buf, k.parentID)
		buf = appendString(buf, k.userType)
		buf = s.append(buf)
	}
	return StateFormat.Seal(buf)
}

func (s *userSet) append(buf []byte) []byte {
	if s.sketch == nil {
		buf = append(buf, 0)
		buf = binary.AppendUvarint(buf, uint64(len(s.last)))
		for h, m := range s.last {
			buf = binary.LittleEndian.AppendUint64(buf, h)
			buf = binary.AppendUvarint(buf, uint64(m))
		}
		return buf
	}
	buf = append(buf, 1)
	buf = binary.AppendVarint(buf, s.sketch.now)
	buf = appendSketches(buf, s.sketch.hours)
	return appendSketches(buf, s.sketch.days)
}

func appendSketches(buf []byte, m map[int64]*hyperloglog.Sketch) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(m)))
	for k, sk := range m {
		buf = binary.AppendVarint(buf, k)
		data, _ := sk.MarshalBinary() // never fails
		buf = appendBytes(buf, data)
	}
	return buf
}

func appendTime(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(buf, 0)
	}
	return binary.AppendVarint(buf, t.UnixNano())
}

func appendBool(buf []byte, b bool) []byte {
	if b {
		return append(buf, 1)
	}
	return append(buf, 0)
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// Unmarshal decodes what Marshal wrote, or a state of the previous version;
// a damaged value, or one of a format this version does not read, is
// refused whole.
func Unmarshal(data []byte) (*Instance, error) {
	body, _, err := StateFormat.Open(data)
	if err != nil {
		return nil, err
	}
	d := storedform.NewDecoder(body, "activity state")
	start, cursor := d.Time(), d.Time()
	caughtUp, perOrg := d.Bool(), d.Bool()
	key := d.Bytes()
	if d.Err() == nil && len(key) != hashKeySize {
		d.Fail("a hash key of %d bytes", len(key))
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	in := newInstance(start, perOrg, key)
	in.Position.Cursor, in.CaughtUp = cursor, caughtUp
	for range d.Count() {
		k := EventKey{AggregateID: d.String(), Sequence: d.Uvarint()}
		in.Position.Seen[k] = d.Time()
	}
	for range d.Count() {
		k := LoginKey{Protocol: d.String(), Application: d.String(), Organization: d.String(), Kind: d.String(), MultiFactor: d.Bool()}
		in.counters.logins[k] = d.Uvarint()
	}
	for range d.Count() {
		k := CheckKey{Organization: d.String(), Factor: d.String(), Outcome: d.String()}
		in.counters.checks[k] = d.Uvarint()
	}
	for range d.Count() {
		org := d.String()
		in.counters.lockouts[org] = d.Uvarint()
	}
	for range d.Count() {
		k := parentKey{parentType: d.String(), parentID: d.String(), userType: d.String()}
		in.users[k] = readUserSet(d)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	in.counters.reindex()
	return in, nil
}

func readUserSet(d *storedform.Decoder) *userSet {
	s := newUserSet()
	if d.Bool() {
		s.last = nil
		s.sketch = &sketchWindows{now: d.Varint()}
		s.sketch.hours = readSketches(d)
		s.sketch.days = readSketches(d)
		return s
	}
	for range d.Count() {
		h := d.Uint64()
		s.last[h] = uint32(d.Below(math.MaxUint32 + 1))
	}
	return s
}

func readSketches(d *storedform.Decoder) map[int64]*hyperloglog.Sketch {
	m := map[int64]*hyperloglog.Sketch{}
	for range d.Count() {
		k := d.Varint()
		data := d.Bytes()
		if d.Err() != nil {
			break
		}
		sk := hyperloglog.New14()
		if err := sk.UnmarshalBinary(data); err != nil {
			d.Fail("a sketch: %v", err)
			break
		}
		m[k] = sk
	}
	return m
}
