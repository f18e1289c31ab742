package zitadelapi

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// instanceState is what an incremental source keeps of one instance between
// scrapes: everything it recorded, and how far it has read the events.
type instanceState struct {
	fullAt time.Time // collector clock: when the last full count began
	cursor time.Time // ZITADEL's clock: the newest event taken into account
	seen   map[eventKey]time.Time

	mu     sync.Mutex
	totals []model.Count // the instance's own counts, without the sums
	own    map[string]int64
	orgs   map[string]*orgCounts
}

// orgCounts is one organization's recorded counts and its shares of the sums.
type orgCounts struct {
	counts []model.Count
	shares map[string]int64
}

func newInstanceState(fullAt, cursor time.Time, seen map[eventKey]time.Time) *instanceState {
	return &instanceState{fullAt: fullAt, cursor: cursor, seen: seen, own: map[string]int64{}, orgs: map[string]*orgCounts{}}
}

func (st *instanceState) keepTotal(c model.Count) {
	if st == nil {
		return
	}
	st.mu.Lock()
	st.totals = append(st.totals, c)
	st.mu.Unlock()
}

func (st *instanceState) keepOwn(resource string, n int64) {
	if st == nil {
		return
	}
	st.mu.Lock()
	st.own[resource] += n
	st.mu.Unlock()
}

func (st *instanceState) keepOrg(orgID string, oc *orgCounts) {
	if st == nil {
		return
	}
	st.mu.Lock()
	st.orgs[orgID] = oc
	st.mu.Unlock()
}

// plan chooses how to count an instance: in full, or from the events since
// the last scrape. It returns the changes for an incremental count, or nil
// with the state a full count builds (nil when none can be kept).
func (r *scrapeRun) planInstance(inst *instanceRun) (*changes, *instanceState) {
	if !r.src.cfg.Incremental {
		return nil, nil
	}
	prev := r.src.state[inst.id]
	var reason string
	switch {
	case prev == nil:
		reason = "no earlier count of it"
	case r.now.Sub(prev.fullAt) >= r.src.cfg.FullScrapeInterval:
		reason = "full_scrape_interval (" + r.src.cfg.FullScrapeInterval.String() + ") has passed"
	default:
		ch, err := r.src.client.readChanges(r.ctx, inst.sc, inst.id, prev, r.src.eventPage)
		if err == nil {
			return ch, newInstanceState(prev.fullAt, ch.cursor, ch.seen)
		}
		reason = "its events could not be read: " + err.Error()
	}
	r.src.set.Logger.Info("Counting a ZITADEL instance in full", zap.String("instance", inst.id), zap.String("reason", reason))
	// Events after this point are read by the next scrape; counting what
	// changed meanwhile twice does no harm.
	cursor, err := r.src.client.latestEventTime(r.ctx, inst.sc)
	if err != nil {
		r.src.set.Logger.Info("The next scrape of this ZITADEL instance counts it in full too",
			zap.String("instance", inst.id), zap.String("reason", "its events could not be read: "+err.Error()))
		return nil, nil
	}
	return nil, r.seenBeforeFull(inst, cursor)
}

// seenBeforeFull is the state of a full count that starts now: the events
// the next scrape re-reads for its overlap, read before the counting begins,
// are already in the count and are marked seen, so that the next scrape
// does not count their organizations again. Without them (they could not be
// read) the next scrape counts those organizations again, which does no harm.
func (r *scrapeRun) seenBeforeFull(inst *instanceRun, cursor time.Time) *instanceState {
	ch, err := r.src.client.readChanges(r.ctx, inst.sc, inst.id, &instanceState{cursor: cursor}, r.src.eventPage)
	if err != nil {
		return newInstanceState(r.now, cursor, nil)
	}
	return newInstanceState(r.now, ch.cursor, ch.seen)
}

// countChanged counts what the events say changed and reuses the rest of the
// previous scrape: the instance totals when no event came, every
// organization no event touched.
func (r *scrapeRun) countChanged(inst *instanceRun, ch *changes) {
	prev := r.src.state[inst.id]
	if ch.any {
		if !r.submitInstanceCounts(inst, false) {
			return
		}
	} else {
		for _, c := range prev.totals {
			if c.Resource == model.ResourceSession {
				continue // sessions expire without an event
			}
			r.reuseTotal(inst, c)
		}
		if r.src.plan.countsInstance(model.ResourceSession) && !r.submit(func() { r.countInstanceTotal(inst, model.ResourceSession) }) {
			r.stopped(inst)
			return
		}
		for res, n := range prev.own {
			inst.addOwn(res, n)
		}
	}
	// A changed default login policy changes organization_enforce_mfa of
	// every organization that inherits it.
	recount := ch.orgs
	if ch.defaults && r.src.plan.countsOrg(model.ResourceOrganizationEnforceMFA) {
		for id := range prev.orgs {
			recount[id] = true
		}
	}
	for id, oc := range prev.orgs {
		if ch.removed[id] || recount[id] {
			continue
		}
		r.recordCounts(oc.counts)
		for res, n := range oc.shares {
			inst.add(res, n)
		}
		inst.track.keepOrg(id, oc)
	}
	for id := range recount {
		if ch.removed[id] {
			continue
		}
		if !r.submit(func() { r.countOrganization(inst, id) }) {
			r.stopped(inst)
			return
		}
	}
}

// reuseTotal records an instance total of the previous scrape again.
func (r *scrapeRun) reuseTotal(inst *instanceRun, c model.Count) {
	r.recordCounts([]model.Count{c})
	inst.track.keepTotal(c)
}

// keepState replaces the kept state of every instance counted without a
// failure; an instance with one is counted in full next time.
func (r *scrapeRun) keepState() {
	if !r.src.cfg.Incremental {
		return
	}
	for _, inst := range r.instances {
		if inst.track == nil || inst.failed.Load() {
			delete(r.src.state, inst.id)
			continue
		}
		r.src.state[inst.id] = inst.track
	}
}
