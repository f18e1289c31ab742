package schedule

import (
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
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
	strs    interner[string]
	// times holds the data point times the rows share, one per scrape.
	times interner[int64]
	// instances is the newest information per instance, by interned id.
	instances map[uint32]*instanceInfo
	rows      []snapshotRow
	// parents finds rows: per (instance, parent id) the last row added,
	// whose next leads through the others of that parent, a few dozen at
	// most. A map of every row's key would take more memory than the rows.
	parents map[uint64]int32
	// cursor is where the next row of a batch is expected: a receiver
	// emits its rows in the same order every scrape, so a refresh walks the
	// rows in order and rarely needs to look a row up.
	cursor int
	// The rows of one batch share one observation time.
	lastTS   *timestamppb.Timestamp
	lastTime uint32
	// last is the key of the row put last.
	last rowKey
}

type rowKey struct {
	instance, parent, resource, table uint32
	parentType                        analytics.CountParentType
}

// snapshotRow is 36 bytes: the key, the amount, the data point time (its
// number in times), when a batch last carried the row, in Unix seconds
// (which fit 32 bits until 2106), and the next row of the same parent.
type snapshotRow struct {
	key       rowKey
	amount    uint32
	updatedAt uint32
	seen      uint32
	next      int32
}

func (k rowKey) parentKey() uint64 { return uint64(k.instance)<<32 | uint64(k.parent) }

// find returns the row with key k, or -1.
func (ss *systemSnapshot) find(k rowKey) int32 {
	i, ok := ss.parents[k.parentKey()]
	if !ok {
		return -1
	}
	for ; i >= 0; i = ss.rows[i].next {
		if ss.rows[i].key == k {
			return i
		}
	}
	return -1
}

// add appends a row with key k and returns its index.
func (ss *systemSnapshot) add(k rowKey) int32 {
	i := int32(len(ss.rows))
	next, ok := ss.parents[k.parentKey()]
	if !ok {
		next = -1
	}
	ss.rows = append(ss.rows, snapshotRow{key: k, next: next})
	ss.parents[k.parentKey()] = i
	return i
}

// reindex links the rows anew after they moved.
func (ss *systemSnapshot) reindex() {
	ss.parents = make(map[uint64]int32, len(ss.parents))
	for i := range ss.rows {
		r := &ss.rows[i]
		pk := r.key.parentKey()
		r.next = -1
		if head, ok := ss.parents[pk]; ok {
			r.next = head
		}
		ss.parents[pk] = int32(i)
	}
}

type instanceInfo struct {
	domains   []string
	createdAt *timestamppb.Timestamp
}

// interner stores each distinct value once and numbers it. Strings are
// stored as copies: a kept string must not hold a whole batch in memory.
type interner[T comparable] struct {
	ids  map[T]uint32
	vals []T
}

func (in *interner[T]) id(v T) uint32 {
	if id, ok := in.ids[v]; ok {
		return id
	}
	if in.ids == nil {
		in.ids = make(map[T]uint32)
	}
	if s, ok := any(v).(string); ok {
		v = any(strings.Clone(s)).(T)
	}
	id := uint32(len(in.vals))
	in.vals = append(in.vals, v)
	in.ids[v] = id
	return id
}

// compact keeps the used values and returns their new numbers.
func (in *interner[T]) compact(used []bool) []uint32 {
	remap := make([]uint32, len(used))
	var fresh interner[T]
	for id, u := range used {
		if u {
			remap[id] = fresh.id(in.vals[id])
		}
	}
	*in = fresh
	return remap
}

// unixSeconds is t in the rows' seen field.
func unixSeconds(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 0), math.MaxUint32))
}

func (s *snapshot) system(id string) *systemSnapshot {
	ss, ok := s.systems[id]
	if !ok {
		ss = &systemSnapshot{id: strings.Clone(id), instances: make(map[uint32]*instanceInfo), parents: make(map[uint64]int32)}
		s.systems[id] = ss
	}
	return ss
}

// update takes the reports built from one batch, received at now.
func (s *snapshot) update(reports []*report.System, now time.Time) {
	seen := unixSeconds(now)
	for _, sr := range reports {
		s.system(sr.SystemID()).update(sr, seen)
	}
}

func (ss *systemSnapshot) update(sr *report.System, seen uint32) {
	if sr.Base().Version != "" && sr.Base().Version != ss.version {
		ss.version = strings.Clone(sr.Base().Version)
	}
	for _, in := range sr.Base().Instances {
		domains := make([]string, len(in.Domains))
		for i, d := range in.Domains {
			domains[i] = strings.Clone(d)
		}
		ss.instances[ss.strs.id(in.Id)] = &instanceInfo{domains: domains, createdAt: in.CreatedAt}
	}
	if len(ss.rows) == 0 {
		ss.rows = make([]snapshotRow, 0, len(sr.Rows()))
	}
	ss.cursor = 0
	for _, rc := range sr.Rows() {
		ss.put(rc, seen)
	}
	ss.lastTS = nil
}

func (ss *systemSnapshot) put(rc *analytics.ResourceCount, seen uint32) {
	if rc.UpdatedAt != ss.lastTS || ss.times.vals == nil {
		var nanos int64
		if rc.UpdatedAt != nil {
			nanos = rc.UpdatedAt.Seconds*int64(time.Second) + int64(rc.UpdatedAt.Nanos)
		}
		ss.lastTS, ss.lastTime = rc.UpdatedAt, ss.times.id(nanos)
	}
	i := ss.cursor
	if i >= len(ss.rows) || !ss.isRow(i, rc) {
		k := rowKey{
			instance: ss.strID(rc.InstanceId, ss.last.instance), parent: ss.strID(rc.ParentId, ss.last.parent),
			resource: ss.strs.id(rc.ResourceName), table: ss.strID(rc.TableName, ss.last.table), parentType: rc.ParentType,
		}
		idx := ss.find(k)
		if idx < 0 {
			idx = ss.add(k)
		}
		i = int(idx)
	}
	r := &ss.rows[i]
	r.amount, r.updatedAt, r.seen = rc.Amount, ss.lastTime, seen
	ss.cursor = i + 1
	ss.last = r.key
}

// strID interns s, trying the previous row's string first: consecutive rows
// mostly share instance, parent and table.
func (ss *systemSnapshot) strID(s string, prev uint32) uint32 {
	if int(prev) < len(ss.strs.vals) && ss.strs.vals[prev] == s {
		return prev
	}
	return ss.strs.id(s)
}

// isRow reports whether row i has rc's key, without looking anything up.
func (ss *systemSnapshot) isRow(i int, rc *analytics.ResourceCount) bool {
	k := &ss.rows[i].key
	strs := ss.strs.vals
	return k.parentType == rc.ParentType && strs[k.parent] == rc.ParentId &&
		strs[k.resource] == rc.ResourceName && strs[k.instance] == rc.InstanceId && strs[k.table] == rc.TableName
}

// prune drops the rows no batch carried since cutoff, the instances left
// without rows and the systems left without instances.
func (s *snapshot) prune(cutoff time.Time) (dropped bool) {
	for id, ss := range s.systems {
		kept, systemDropped := ss.prune(unixSeconds(cutoff))
		if kept == 0 {
			delete(s.systems, id)
		}
		dropped = dropped || systemDropped
	}
	return dropped
}

// prune returns how many rows it kept and whether it dropped any; with none
// dropped, the strings, times and index stay as they are.
func (ss *systemSnapshot) prune(cutoff uint32) (int, bool) {
	kept := 0
	for i := range ss.rows {
		r := ss.rows[i]
		if r.seen < cutoff {
			continue
		}
		ss.rows[kept] = r
		kept++
	}
	if kept == len(ss.rows) {
		return kept, false
	}
	ss.rows = ss.rows[:kept]
	ss.cursor, ss.last = 0, rowKey{}
	ss.compact()
	ss.reindex()
	return kept, true
}

// compact forgets the strings and times no row uses any more (organizations
// deleted long ago, scrapes long past), renumbering the rest.
func (ss *systemSnapshot) compact() {
	used := make([]bool, len(ss.strs.vals))
	usedTimes := make([]bool, len(ss.times.vals))
	live, liveTimes := 0, 0
	mark := func(id uint32) {
		if !used[id] {
			used[id] = true
			live++
		}
	}
	for i := range ss.rows {
		r := &ss.rows[i]
		mark(r.key.instance)
		mark(r.key.parent)
		mark(r.key.resource)
		mark(r.key.table)
		if !usedTimes[r.updatedAt] {
			usedTimes[r.updatedAt] = true
			liveTimes++
		}
	}
	for id := range ss.instances {
		if !used[id] {
			delete(ss.instances, id)
		}
	}
	ss.lastTS = nil
	if liveTimes < len(ss.times.vals)/2 {
		remap := ss.times.compact(usedTimes)
		for i := range ss.rows {
			ss.rows[i].updatedAt = remap[ss.rows[i].updatedAt]
		}
	}
	if live >= len(ss.strs.vals)/2 {
		return
	}
	remap := ss.strs.compact(used)
	instances := make(map[uint32]*instanceInfo, len(ss.instances))
	for id, in := range ss.instances {
		instances[remap[id]] = in
	}
	for i := range ss.rows {
		k := &ss.rows[i].key
		k.instance, k.parent, k.resource, k.table = remap[k.instance], remap[k.parent], remap[k.resource], remap[k.table]
	}
	ss.instances = instances
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
	b := contract.NewBuilder(now, now, ss.id, ss.version)
	str := ss.strs.vals
	for i := range ss.rows {
		r := &ss.rows[i]
		inst := str[r.key.instance]
		if !b.HasInstance(inst) {
			b.RecordInstance(ss.instanceModel(r.key.instance))
		}
		b.RecordCountAt(model.Count{
			InstanceID: inst, ParentType: contract.ParentTypeName(r.key.parentType),
			ParentID: str[r.key.parent], Resource: str[r.key.resource], Table: str[r.key.table], Amount: int64(r.amount),
		},
			pcommon.Timestamp(ss.times.vals[r.updatedAt]))
	}
	return b.Emit()
}

func (ss *systemSnapshot) instanceModel(id uint32) model.Instance {
	in := model.Instance{ID: ss.strs.vals[id]}
	if info, ok := ss.instances[id]; ok {
		in.Domains = info.domains
		if info.createdAt != nil {
			in.CreatedAt = info.createdAt.AsTime()
		}
	}
	return in
}
