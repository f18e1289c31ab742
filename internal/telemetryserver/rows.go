package telemetryserver

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// rowStore keeps one row per (instance, parent type, parent id, table,
// resource), the key ZITADEL's own projections.resource_counts is unique on,
// so that re-sent pages are deduplicated. Rows arrive grouped by parent, so
// the store has two levels: a parent is looked up once per run of its rows,
// and its rows, a few dozen in ZITADEL, are searched in a slice.
type rowStore struct {
	parents map[parentKey]*parentRows
	size    int

	lastKey parentKey
	last    *parentRows
}

type parentKey struct {
	instanceID string
	parentType analytics.CountParentType
	parentID   string
}

type parentRows struct {
	rows []storedRow
	// index replaces the linear search once a parent has many rows.
	index map[resourceKey]int
}

type resourceKey struct{ resource, table string }

type storedRow struct {
	resourceKey
	amount    uint32
	updatedAt *timestamppb.Timestamp
}

const linearSearchRows = 32

func newRowStore() *rowStore {
	return &rowStore{parents: make(map[parentKey]*parentRows)}
}

// put stores rc unless the row it replaces was observed later.
func (s *rowStore) put(rc *analytics.ResourceCount) {
	key := parentKey{rc.InstanceId, rc.ParentType, rc.ParentId}
	p := s.last
	if p == nil || key != s.lastKey {
		if p = s.parents[key]; p == nil {
			p = &parentRows{}
			s.parents[key] = p
		}
		s.lastKey, s.last = key, p
	}
	rk := resourceKey{rc.ResourceName, rc.TableName}
	if i := p.find(rk); i >= 0 {
		if !newer(p.rows[i].updatedAt, rc.UpdatedAt) {
			p.rows[i].amount, p.rows[i].updatedAt = rc.Amount, rc.UpdatedAt
		}
		return
	}
	p.rows = append(p.rows, storedRow{resourceKey: rk, amount: rc.Amount, updatedAt: rc.UpdatedAt})
	s.size++
	switch {
	case p.index != nil:
		p.index[rk] = len(p.rows) - 1
	case len(p.rows) > linearSearchRows:
		p.index = make(map[resourceKey]int, len(p.rows))
		for i, r := range p.rows {
			p.index[r.resourceKey] = i
		}
	}
}

func (p *parentRows) find(rk resourceKey) int {
	if p.index != nil {
		if i, ok := p.index[rk]; ok {
			return i
		}
		return -1
	}
	for i := range p.rows {
		if p.rows[i].resourceKey == rk {
			return i
		}
	}
	return -1
}

// newer reports whether a was observed strictly after b: a re-sent older
// count never overwrites a fresher one.
func newer(a, b *timestamppb.Timestamp) bool {
	return a.GetSeconds() > b.GetSeconds() || a.GetSeconds() == b.GetSeconds() && a.GetNanos() > b.GetNanos()
}

// all returns every stored row as a ResourceCount, in no particular order.
func (s *rowStore) all() []*analytics.ResourceCount {
	out := make([]*analytics.ResourceCount, 0, s.size)
	for k, p := range s.parents {
		for _, r := range p.rows {
			out = append(out, &analytics.ResourceCount{
				InstanceId: k.instanceID, ParentType: k.parentType, ParentId: k.parentID,
				ResourceName: r.resource, TableName: r.table, UpdatedAt: r.updatedAt, Amount: r.amount,
			})
		}
	}
	return out
}
