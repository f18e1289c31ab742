package activity

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// StateFormat is the stored state's format: version 3 keeps the read
// position as the source's cursor and is sealed with a checksum; version 2
// kept it as a creation date (in UnixNano, which a far-future date
// overflows) and the events read before it, hashed under the state's key
// (what a DateCursor holds), and is still read.
var StateFormat = storedform.Format{What: "activity state", Current: "zitadel.activity.v3", Previous: "zitadel.activity.v2"}

// Marshal encodes the instance's whole state: one value, so the counters,
// the read position and the users it stores always belong together.
func (in *Instance) Marshal() []byte {
	buf := StateFormat.Start(256)
	buf = appendTime(buf, in.Start)
	buf = storedform.AppendBytes(buf, in.Position.Cursor)
	buf = appendBool(buf, in.CaughtUp)
	buf = appendBool(buf, in.perOrganization)
	buf = storedform.AppendBytes(buf, in.key)
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.logins)))
	for k, n := range in.counters.logins {
		buf = storedform.AppendBytes(buf, k.Protocol)
		buf = storedform.AppendBytes(buf, k.Application)
		buf = storedform.AppendBytes(buf, k.Organization)
		buf = storedform.AppendBytes(buf, k.Kind)
		buf = appendBool(buf, k.MultiFactor)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.checks)))
	for k, n := range in.counters.checks {
		buf = storedform.AppendBytes(buf, k.Organization)
		buf = storedform.AppendBytes(buf, k.Factor)
		buf = storedform.AppendBytes(buf, k.Outcome)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.counters.lockouts)))
	for org, n := range in.counters.lockouts {
		buf = storedform.AppendBytes(buf, org)
		buf = binary.AppendUvarint(buf, n)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.users)))
	for k, s := range in.users {
		buf = storedform.AppendBytes(buf, k.parentType)
		buf = storedform.AppendBytes(buf, k.parentID)
		buf = storedform.AppendBytes(buf, k.userType)
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
		buf = storedform.AppendBytes(buf, data)
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

// Unmarshal decodes what Marshal wrote, or a state of the previous version;
// a damaged value, or one of a format this version does not read, is
// refused whole.
func Unmarshal(data []byte) (*Instance, error) {
	in, _, err := unmarshal(data)
	return in, err
}

// unmarshal is Unmarshal, and whether data was of the previous version.
func unmarshal(data []byte) (*Instance, bool, error) {
	body, v2, err := StateFormat.Open(data)
	if err != nil {
		return nil, false, err
	}
	d := storedform.NewDecoder(body, "activity state")
	start := d.Time()
	var cursor zitadelevent.Cursor
	var at time.Time
	if v2 {
		at = d.Time()
	} else if c := d.Bytes(); len(c) > 0 {
		cursor = append(zitadelevent.Cursor(nil), c...)
	}
	caughtUp, perOrg := d.Bool(), d.Bool()
	key := d.Bytes()
	if d.Err() == nil && len(key) != hashKeySize {
		d.Fail("a hash key of %d bytes", len(key))
	}
	if d.Err() != nil {
		return nil, false, d.Err()
	}
	in := newInstance(start, perOrg, key)
	in.Position.Cursor, in.CaughtUp = cursor, caughtUp
	if v2 {
		in.Position.Cursor = readV2Position(d, at, key)
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
		return nil, false, err
	}
	in.counters.reindex()
	in.recountOrganizationUsers()
	return in, v2, nil
}

// readV2Position turns a v2 read position into the DateCursor the api
// source reads on with: the same date, the same hashes under the same key.
func readV2Position(d *storedform.Decoder, at time.Time, key []byte) zitadelevent.Cursor {
	if d.Err() == nil && !zitadelevent.Plausible(at, time.Now()) {
		d.Fail("a read position of %s", at.Format(time.RFC3339))
	}
	c := &zitadelevent.DateCursor{At: at, Seen: map[zitadelevent.DateKey]time.Time{}}
	copy(c.Key[:], key)
	for range d.Count() {
		id, seq, seen := d.String(), d.Uvarint(), d.Time()
		if h, err := strconv.ParseUint(id, 16, 64); err == nil {
			c.Seen[zitadelevent.DateKey{AggregateHash: h, Sequence: seq}] = seen
		}
	}
	return c.Encode()
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
