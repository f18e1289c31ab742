package zitadeltelemetry

import (
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// snapshot is what a scheduled report is made of: per system, the newest
// count per (instance, parent type, parent id, table, resource), whatever
// pieces the counts arrived in. It is not safe for concurrent use.
type snapshot struct {
	systems map[string]*systemSnapshot
}

func newSnapshot() *snapshot {
	return &snapshot{systems: make(map[string]*systemSnapshot)}
}

// systemSnapshot holds one system's rows. The rows' strings are interned: a
// million rows share a few hundred instance, resource and table names and a
// parent id per organization.
type systemSnapshot struct {
	id      string
	version string
	strs    interner
	// instances is the newest information per instance, by interned id.
	instances map[uint32]*instanceInfo
	rows      []snapshotRow
	index     map[rowKey]int32
	// cursor is where the next row of a batch is expected: a receiver
	// emits its rows in the same order every scrape, so a refresh walks the
	// rows in order and rarely needs the index.
	cursor int
	// The rows of one batch share one observation time.
	lastTS      *timestamppb.Timestamp
	lastTSNanos int64
}

type rowKey struct {
	instance, parent, resource, table uint32
	parentType                        analytics.CountParentType
}

type snapshotRow struct {
	key    rowKey
	amount uint32
	// updatedAt is the data point time in Unix nanoseconds, 0 for none.
	updatedAt int64
	// seen is when a batch last carried the row, in Unix nanoseconds.
	seen int64
}

type instanceInfo struct {
	domains   []string
	createdAt *timestamppb.Timestamp
}

// interner stores each distinct string once, as a copy: a kept string must
// not hold a whole batch in memory.
type interner struct {
	ids  map[string]uint32
	strs []string
}

func (in *interner) id(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	if in.ids == nil {
		in.ids = make(map[string]uint32)
	}
	c := strings.Clone(s)
	id := uint32(len(in.strs))
	in.strs = append(in.strs, c)
	in.ids[c] = id
	return id
}

func (s *snapshot) system(id string) *systemSnapshot {
	ss, ok := s.systems[id]
	if !ok {
		ss = &systemSnapshot{id: strings.Clone(id), instances: make(map[uint32]*instanceInfo), index: make(map[rowKey]int32)}
		s.systems[id] = ss
	}
	return ss
}

// update takes the reports built from one batch, received at now.
func (s *snapshot) update(reports []*systemReport, now time.Time) {
	seen := now.UnixNano()
	for _, sr := range reports {
		s.system(sr.systemID).update(sr, seen)
	}
}

func (ss *systemSnapshot) update(sr *systemReport, seen int64) {
	if sr.base.Version != "" && sr.base.Version != ss.version {
		ss.version = strings.Clone(sr.base.Version)
	}
	for _, in := range sr.base.Instances {
		domains := make([]string, len(in.Domains))
		for i, d := range in.Domains {
			domains[i] = strings.Clone(d)
		}
		ss.instances[ss.strs.id(in.Id)] = &instanceInfo{domains: domains, createdAt: in.CreatedAt}
	}
	ss.cursor = 0
	for _, rc := range sr.rows {
		ss.put(rc, seen)
	}
	ss.lastTS = nil
}

func (ss *systemSnapshot) put(rc *analytics.ResourceCount, seen int64) {
	if rc.UpdatedAt != ss.lastTS {
		ss.lastTS, ss.lastTSNanos = rc.UpdatedAt, 0
		if rc.UpdatedAt != nil {
			ss.lastTSNanos = rc.UpdatedAt.Seconds*int64(time.Second) + int64(rc.UpdatedAt.Nanos)
		}
	}
	i := ss.cursor
	if i >= len(ss.rows) || !ss.isRow(i, rc) {
		k := rowKey{instance: ss.strs.id(rc.InstanceId), parent: ss.strs.id(rc.ParentId),
			resource: ss.strs.id(rc.ResourceName), table: ss.strs.id(rc.TableName), parentType: rc.ParentType}
		idx, ok := ss.index[k]
		if !ok {
			idx = int32(len(ss.rows))
			ss.rows = append(ss.rows, snapshotRow{key: k})
			ss.index[k] = idx
		}
		i = int(idx)
	}
	r := &ss.rows[i]
	r.amount, r.updatedAt, r.seen = rc.Amount, ss.lastTSNanos, seen
	ss.cursor = i + 1
}

// isRow reports whether row i has rc's key, without looking anything up.
func (ss *systemSnapshot) isRow(i int, rc *analytics.ResourceCount) bool {
	k := &ss.rows[i].key
	return k.parentType == rc.ParentType && ss.strs.strs[k.parent] == rc.ParentId &&
		ss.strs.strs[k.resource] == rc.ResourceName && ss.strs.strs[k.instance] == rc.InstanceId &&
		ss.strs.strs[k.table] == rc.TableName
}

// prune drops the rows no batch carried since cutoff, the instances left
// without rows and the systems left without instances.
func (s *snapshot) prune(cutoff time.Time) {
	for id, ss := range s.systems {
		if ss.prune(cutoff.UnixNano()) == 0 {
			delete(s.systems, id)
		}
	}
}

func (ss *systemSnapshot) prune(cutoff int64) int {
	kept := 0
	for i := range ss.rows {
		r := ss.rows[i]
		if r.seen < cutoff {
			delete(ss.index, r.key)
			continue
		}
		if kept != i {
			ss.rows[kept] = r
			ss.index[r.key] = int32(kept)
		}
		kept++
	}
	ss.rows = ss.rows[:kept]
	ss.cursor = 0

	used := make([]bool, len(ss.strs.strs))
	live := 0
	mark := func(id uint32) {
		if !used[id] {
			used[id] = true
			live++
		}
	}
	for i := range ss.rows {
		k := &ss.rows[i].key
		mark(k.instance)
		mark(k.parent)
		mark(k.resource)
		mark(k.table)
	}
	for id := range ss.instances {
		if !used[id] {
			delete(ss.instances, id)
		}
	}
	if live < len(ss.strs.strs)/2 {
		ss.compactStrings(used)
	}
	return kept
}

// compactStrings forgets the strings no row uses any more (organizations
// deleted long ago), renumbering the rest.
func (ss *systemSnapshot) compactStrings(used []bool) {
	remap := make([]uint32, len(used))
	var fresh interner
	for id, u := range used {
		if u {
			remap[id] = fresh.id(ss.strs.strs[id])
		}
	}
	instances := make(map[uint32]*instanceInfo, len(ss.instances))
	for id, in := range ss.instances {
		instances[remap[id]] = in
	}
	index := make(map[rowKey]int32, len(ss.rows))
	for i := range ss.rows {
		k := &ss.rows[i].key
		k.instance, k.parent, k.resource, k.table = remap[k.instance], remap[k.parent], remap[k.resource], remap[k.table]
		index[*k] = int32(i)
	}
	ss.strs, ss.instances, ss.index = fresh, instances, index
}

// systemIDs returns the systems in the snapshot, sorted.
func (s *snapshot) systemIDs() []string {
	ids := make([]string, 0, len(s.systems))
	for id := range s.systems {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// metrics writes one system's snapshot in the metric contract, one resource
// per instance that has rows, for the exporter's own sending path.
func (ss *systemSnapshot) metrics(now time.Time) pmetric.Metrics {
	b := newMetricsBuilder(now, now, ss.id, ss.version)
	str := ss.strs.strs
	for i := range ss.rows {
		r := &ss.rows[i]
		inst := str[r.key.instance]
		if _, ok := b.instances[inst]; !ok {
			b.RecordInstance(ss.instanceModel(r.key.instance))
		}
		b.RecordCount(model.Count{InstanceID: inst, ParentType: parentTypeName(r.key.parentType),
			ParentID: str[r.key.parent], Resource: str[r.key.resource], Table: str[r.key.table], Amount: int64(r.amount)})
		points := b.instances[inst].points
		points.At(points.Len() - 1).SetTimestamp(pcommon.Timestamp(r.updatedAt))
	}
	return b.emit()
}

func (ss *systemSnapshot) instanceModel(id uint32) model.Instance {
	in := model.Instance{ID: ss.strs.strs[id]}
	if info, ok := ss.instances[id]; ok {
		in.Domains = info.domains
		if info.createdAt != nil {
			in.CreatedAt = info.createdAt.AsTime()
		}
	}
	return in
}

// parentTypeName is the inverse of parentTypeOf; an unspecified type stays
// unspecified.
func parentTypeName(t analytics.CountParentType) string {
	switch t {
	case analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE:
		return model.ParentInstance
	case analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION:
		return model.ParentOrganization
	}
	return ""
}
