package schedule

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
)

// SnapshotFormat is the stored snapshot's format: version 2 is version 1's
// encoding sealed with a checksum; version 1 is still read.
var SnapshotFormat = storedform.Format{What: "snapshot", Current: "zitadeltelemetry.snapshot.v2", Previous: "zitadeltelemetry.snapshot.v1"}

// SnapshotStorageKey is the key of the snapshot in the exporter's storage client.
const SnapshotStorageKey = "snapshot"

// marshal encodes the snapshot: per system its strings once, then rows of
// string numbers, as compact as the memory layout.
func (s *snapshot) marshal() []byte {
	buf := SnapshotFormat.Start(64 * len(s.systems))
	buf = binary.AppendUvarint(buf, uint64(len(s.systems)))
	for _, id := range s.systemIDs() {
		ss := s.systems[id]
		buf = storedform.AppendBytes(buf, ss.id)
		buf = storedform.AppendBytes(buf, ss.version)
		buf = binary.AppendUvarint(buf, uint64(len(ss.strs.vals)))
		for _, str := range ss.strs.vals {
			buf = storedform.AppendBytes(buf, str)
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
				buf = storedform.AppendBytes(buf, d)
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
	return SnapshotFormat.Seal(buf)
}

// unmarshalSnapshot decodes what marshal wrote, or a snapshot of the
// previous version, checking every number against what it refers to: a
// damaged value is refused whole.
func unmarshalSnapshot(data []byte) (*snapshot, error) {
	s, _, err := openSnapshot(data)
	return s, err
}

// openSnapshot is unmarshalSnapshot, and whether data was of the previous
// version.
func openSnapshot(data []byte) (*snapshot, bool, error) {
	body, previous, err := SnapshotFormat.Open(data)
	if err != nil {
		return nil, false, err
	}
	d := storedform.NewDecoder(body, "snapshot")
	s := newSnapshot()
	for range d.Count() {
		ss := s.system(d.String())
		ss.version = d.String()
		for range d.Count() {
			ss.strs.id(d.String())
		}
		nstr := uint64(len(ss.strs.vals))
		if nstr != uint64(len(ss.strs.ids)) {
			d.Fail("a string is stored twice")
		}
		for range d.Count() {
			ss.times.id(d.Varint())
		}
		ntimes := uint64(len(ss.times.vals))
		if ntimes != uint64(len(ss.times.ids)) {
			d.Fail("a time is stored twice")
		}
		for range d.Count() {
			id := d.Below(nstr)
			in := &instanceInfo{}
			for range d.Count() {
				in.domains = append(in.domains, d.String())
			}
			if d.Byte() == 1 {
				in.createdAt = &timestamppb.Timestamp{Seconds: d.Varint(), Nanos: int32(d.Below(1e9))}
			}
			ss.instances[uint32(id)] = in
		}
		n := d.Count()
		ss.rows = make([]snapshotRow, 0, n)
		for range n {
			var r snapshotRow
			r.key.instance = uint32(d.Below(nstr))
			r.key.parent = uint32(d.Below(nstr))
			r.key.resource = uint32(d.Below(nstr))
			r.key.table = uint32(d.Below(nstr))
			r.key.parentType = analytics.CountParentType(d.Below(math.MaxInt32))
			r.amount = uint32(d.Below(math.MaxUint32 + 1))
			r.updatedAt = uint32(d.Below(ntimes))
			r.seen = uint32(d.Below(math.MaxUint32 + 1))
			if ss.find(r.key) >= 0 {
				d.Fail("a row is stored twice")
				break
			}
			i := ss.add(r.key)
			r.next = ss.rows[i].next
			ss.rows[i] = r
		}
		if d.Err() != nil {
			break
		}
	}
	if err := d.Finish(); err != nil {
		return nil, false, err
	}
	return s, previous, nil
}
