package schedule

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// SnapshotFormat starts every stored snapshot; a stored value of another
// format is ignored, as if nothing was stored.
const SnapshotFormat = "zitadeltelemetry.snapshot.v1"

// SnapshotStorageKey is the key of the snapshot in the exporter's storage client.
const SnapshotStorageKey = "snapshot"

// marshal encodes the snapshot: per system its strings once, then rows of
// string numbers, as compact as the memory layout.
func (s *snapshot) marshal() []byte {
	buf := append([]byte(nil), SnapshotFormat...)
	buf = binary.AppendUvarint(buf, uint64(len(s.systems)))
	for _, id := range s.systemIDs() {
		ss := s.systems[id]
		buf = appendString(buf, ss.id)
		buf = appendString(buf, ss.version)
		buf = binary.AppendUvarint(buf, uint64(len(ss.strs.vals)))
		for _, str := range ss.strs.vals {
			buf = appendString(buf, str)
		}
		buf = binary.AppendUvarint(buf, uint64(len(ss.times.vals)))
		for _, t := range ss.times.vals {
			buf = binary.AppendVarint(buf, t)
		}
		buf = binary.AppendUvarint(buf, uint64(len(ss.instances)))
		for id, in := range ss.instances {
			buf = binary.AppendUvarint(buf, uint64(id))
			buf = binary.AppendUvarint(buf, uint64(len(in.domains)))
			for _, d := range in.domains {
				buf = appendString(buf, d)
			}
			if in.createdAt == nil {
				buf = append(buf, 0)
			} else {
				buf = append(buf, 1)
				buf = binary.AppendVarint(buf, in.createdAt.Seconds)
				buf = binary.AppendUvarint(buf, uint64(in.createdAt.Nanos))
			}
		}
		buf = binary.AppendUvarint(buf, uint64(len(ss.rows)))
		for i := range ss.rows {
			r := &ss.rows[i]
			buf = binary.AppendUvarint(buf, uint64(r.key.instance))
			buf = binary.AppendUvarint(buf, uint64(r.key.parent))
			buf = binary.AppendUvarint(buf, uint64(r.key.resource))
			buf = binary.AppendUvarint(buf, uint64(r.key.table))
			buf = binary.AppendUvarint(buf, uint64(r.key.parentType))
			buf = binary.AppendUvarint(buf, uint64(r.amount))
			buf = binary.AppendUvarint(buf, uint64(r.updatedAt))
			buf = binary.AppendUvarint(buf, uint64(r.seen))
		}
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// errNotASnapshot says a stored value was written by something else.
var errNotASnapshot = errors.New("the stored value is not a snapshot of this format")

// unmarshalSnapshot decodes what marshal wrote, checking every number
// against what it refers to: a damaged value is refused whole.
func unmarshalSnapshot(data []byte) (*snapshot, error) {
	if len(data) < len(SnapshotFormat) || string(data[:len(SnapshotFormat)]) != SnapshotFormat {
		return nil, errNotASnapshot
	}
	d := decoder{buf: data[len(SnapshotFormat):]}
	s := newSnapshot()
	for range d.count() {
		ss := s.system(d.string())
		ss.version = d.string()
		for range d.count() {
			ss.strs.id(d.string())
		}
		nstr := uint64(len(ss.strs.vals))
		if nstr != uint64(len(ss.strs.ids)) {
			d.fail("a string is stored twice")
		}
		for range d.count() {
			ss.times.id(d.varint())
		}
		ntimes := uint64(len(ss.times.vals))
		if ntimes != uint64(len(ss.times.ids)) {
			d.fail("a time is stored twice")
		}
		for range d.count() {
			id := d.below(nstr)
			in := &instanceInfo{}
			for range d.count() {
				in.domains = append(in.domains, d.string())
			}
			if d.byte() == 1 {
				in.createdAt = &timestamppb.Timestamp{Seconds: d.varint(), Nanos: int32(d.below(1e9))}
			}
			ss.instances[uint32(id)] = in
		}
		n := d.count()
		ss.rows = make([]snapshotRow, 0, n)
		for range n {
			var r snapshotRow
			r.key.instance = uint32(d.below(nstr))
			r.key.parent = uint32(d.below(nstr))
			r.key.resource = uint32(d.below(nstr))
			r.key.table = uint32(d.below(nstr))
			r.key.parentType = analytics.CountParentType(d.below(math.MaxInt32))
			r.amount = uint32(d.below(math.MaxUint32 + 1))
			r.updatedAt = uint32(d.below(ntimes))
			r.seen = uint32(d.below(math.MaxUint32 + 1))
			if ss.find(r.key) >= 0 {
				d.fail("a row is stored twice")
				break
			}
			i := ss.add(r.key)
			r.next = ss.rows[i].next
			ss.rows[i] = r
		}
		if d.err != nil {
			break
		}
	}
	if d.err == nil && len(d.buf) > 0 {
		d.fail("%d bytes after the end", len(d.buf))
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// decoder reads varints and strings; after the first error every read
// returns zero.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("damaged snapshot: "+format, args...)
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("truncated")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("truncated")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// below reads a number that must be less than limit.
func (d *decoder) below(limit uint64) uint64 {
	v := d.uvarint()
	if v >= limit {
		d.fail("%d is out of range", v)
		return 0
	}
	return v
}

// count reads a number of items; each takes at least one byte.
func (d *decoder) count() int {
	return int(d.below(uint64(len(d.buf)) + 1))
}

func (d *decoder) byte() byte {
	if len(d.buf) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.fail("truncated")
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}
