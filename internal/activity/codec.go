package activity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// stateFormat starts every stored state; a value of another format is
// ignored, as if nothing was stored.
const stateFormat = "zitadel.activity.v2"

// Marshal encodes the instance's whole state: one value, so the counters,
// the read position and the users it stores always belong together.
func (in *Instance) Marshal() []byte {
	buf := append([]byte(nil), stateFormat...)
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
	return buf
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

// ErrNotAState says a stored value was written by something else.
var ErrNotAState = errors.New("the stored value is not an activity state of this format")

// Unmarshal decodes what Marshal wrote; a damaged value is refused whole.
func Unmarshal(data []byte) (*Instance, error) {
	if len(data) < len(stateFormat) || string(data[:len(stateFormat)]) != stateFormat {
		return nil, ErrNotAState
	}
	d := decoder{buf: data[len(stateFormat):]}
	start, cursor := d.time(), d.time()
	caughtUp, perOrg := d.bool(), d.bool()
	key := d.bytes()
	if d.err == nil && len(key) != hashKeySize {
		d.fail("a hash key of %d bytes", len(key))
	}
	if d.err != nil {
		return nil, d.err
	}
	in := newInstance(start, perOrg, key)
	in.Position.Cursor, in.CaughtUp = cursor, caughtUp
	for range d.count() {
		k := EventKey{AggregateID: d.string(), Sequence: d.uvarint()}
		in.Position.Seen[k] = d.time()
	}
	for range d.count() {
		k := LoginKey{Protocol: d.string(), Application: d.string(), Organization: d.string(), Kind: d.string(), MultiFactor: d.bool()}
		in.counters.logins[k] = d.uvarint()
	}
	for range d.count() {
		k := CheckKey{Organization: d.string(), Factor: d.string(), Outcome: d.string()}
		in.counters.checks[k] = d.uvarint()
	}
	for range d.count() {
		org := d.string()
		in.counters.lockouts[org] = d.uvarint()
	}
	for range d.count() {
		k := parentKey{parentType: d.string(), parentID: d.string(), userType: d.string()}
		in.users[k] = d.userSet()
	}
	if d.err == nil && len(d.buf) > 0 {
		d.fail("%d bytes after the end", len(d.buf))
	}
	if d.err != nil {
		return nil, d.err
	}
	return in, nil
}

func (d *decoder) userSet() *userSet {
	s := newUserSet()
	if d.bool() {
		s.last = nil
		s.sketch = &sketchWindows{now: d.varint()}
		s.sketch.hours = d.sketches()
		s.sketch.days = d.sketches()
		return s
	}
	for range d.count() {
		h := d.uint64()
		s.last[h] = uint32(d.below(math.MaxUint32 + 1))
	}
	return s
}

func (d *decoder) sketches() map[int64]*hyperloglog.Sketch {
	m := map[int64]*hyperloglog.Sketch{}
	for range d.count() {
		k := d.varint()
		data := d.bytes()
		if d.err != nil {
			break
		}
		sk := hyperloglog.New14()
		if err := sk.UnmarshalBinary(data); err != nil {
			d.fail("a sketch: %v", err)
			break
		}
		m[k] = sk
	}
	return m
}

// decoder reads what the append functions wrote; after the first error
// every read returns zero.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("damaged activity state: "+format, args...)
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("a number is cut off")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("a number is cut off")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) below(limit uint64) uint64 {
	v := d.uvarint()
	if v >= limit {
		d.fail("%d is out of range", v)
		return 0
	}
	return v
}

// count reads a number of entries, each at least one byte long.
func (d *decoder) count() uint64 { return d.below(uint64(len(d.buf)) + 1) }

func (d *decoder) bytes() []byte {
	n := d.below(uint64(len(d.buf)) + 1)
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) bool() bool {
	if len(d.buf) == 0 {
		d.fail("a flag is cut off")
		return false
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	if b > 1 {
		d.fail("a flag of %d", b)
	}
	return b == 1
}

func (d *decoder) uint64() uint64 {
	if len(d.buf) < 8 {
		d.fail("a hash is cut off")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return v
}

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
