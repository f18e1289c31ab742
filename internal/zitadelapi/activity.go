package zitadelapi

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
)

// activityStorageName names the receiver's storage client.
const activityStorageName = "activity"

// activityTracker keeps the activity of every instance between scrapes, and
// in the storage extension when one is configured.
type activityTracker struct {
	cfg       ActivityConfig
	retention time.Duration
	logger    *zap.Logger
	owner     component.ID
	store     storage.Client // nil without storage

	mu        sync.Mutex
	instances map[string]*activity.Instance
}

func newActivityTracker(cfg *Config, logger *zap.Logger) *activityTracker {
	if !cfg.Activity.Enabled {
		return nil
	}
	return &activityTracker{cfg: cfg.Activity, retention: cfg.AuditLogRetention, logger: logger, instances: map[string]*activity.Instance{}}
}

// SetStorageOwner names the receiver its storage client belongs to.
func (s *source) SetStorageOwner(id component.ID) {
	if s.activity != nil {
		s.activity.owner = id
	}
}

// start opens the storage client. A receiver with storage does not run
// without it: it would count every event of the look-back again.
func (t *activityTracker) start(ctx context.Context, host component.Host) error {
	if t == nil || t.cfg.Storage == nil {
		if t != nil {
			t.logger.Info("Activity counters start again at every restart: set activity::storage to keep them")
		}
		return nil
	}
	id := *t.cfg.Storage
	var ext component.Component
	if host != nil {
		ext = host.GetExtensions()[id]
	}
	if ext == nil {
		return fmt.Errorf("api::activity::storage: extension %q is not configured; add it under extensions and service::extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("api::activity::storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, t.owner, activityStorageName)
	if err != nil {
		return fmt.Errorf("api::activity::storage: extension %q: %w", id, err)
	}
	t.store = client
	return nil
}

func (t *activityTracker) shutdown(ctx context.Context) error {
	if t == nil || t.store == nil {
		return nil
	}
	err := t.store.Close(ctx)
	t.store = nil
	return err
}

func storageKey(instanceID string) string { return "instance/" + instanceID }

// instance returns the kept activity of an instance: from memory, from
// storage, or new, starting the look-back before now.
func (t *activityTracker) instance(ctx context.Context, id string, now time.Time) *activity.Instance {
	t.mu.Lock()
	in, ok := t.instances[id]
	t.mu.Unlock()
	if ok {
		return in
	}
	if t.store != nil {
		data, err := t.store.Get(ctx, storageKey(id))
		switch {
		case err != nil:
			t.logger.Warn("Activity state not read from storage; counting starts again", zap.String("instance", id), zap.Error(err))
		case data != nil:
			if in, err = activity.Unmarshal(data); err != nil {
				t.logger.Warn("Activity state in storage not usable; counting starts again", zap.String("instance", id), zap.Error(err))
			}
		}
	}
	if in == nil {
		in = activity.NewInstance(now.Add(-t.cfg.Lookback), t.cfg.ActiveUsersPerOrganization)
	}
	in.SetPerOrganization(t.cfg.ActiveUsersPerOrganization)
	t.mu.Lock()
	t.instances[id] = in
	t.mu.Unlock()
	return in
}

// persist writes an instance's activity, so a restart continues where it is.
func (t *activityTracker) persist(ctx context.Context, id string, in *activity.Instance) {
	if t.store == nil {
		return
	}
	if err := t.store.Set(ctx, storageKey(id), in.Marshal()); err != nil {
		t.logger.Error("Activity state not written to storage; a restart counts again from the last state written",
			zap.String("instance", id), zap.Error(err))
	}
}

// scrapeActivity reads each instance's new activity events and milestones
// alongside the counts.
func (r *scrapeRun) scrapeActivity() {
	t := r.src.activity
	if t == nil {
		return
	}
	for _, inst := range r.instances {
		if !r.submit(func() { r.instanceActivity(t, inst) }) {
			return
		}
	}
}

func (r *scrapeRun) instanceActivity(t *activityTracker, inst *instanceRun) {
	in := t.instance(r.ctx, inst.id, r.now)
	readErr := r.readActivity(t, inst, in)
	if readErr != nil {
		r.fails.add(inst.label, "", "activity", readErr)
	}
	milestones, err := r.src.client.listMilestones(r.ctx, inst.sc)
	if err != nil {
		r.fails.add(inst.label, "", "milestones", err)
	}
	report := in.Report(r.now)
	report.Milestones = milestones
	r.recordActivity(inst.id, report)
	if readErr == nil {
		t.persist(r.ctx, inst.id, in)
	}
}

// readActivity reads the events after the instance's position, at most
// max_pages_per_scrape pages, and counts them only once every page was read.
func (r *scrapeRun) readActivity(t *activityTracker, inst *instanceRun, in *activity.Instance) error {
	pos := eventPosition{cursor: in.Position.Cursor, seen: make(map[eventKey]time.Time, len(in.Position.Seen))}
	for k, at := range in.Position.Seen {
		h, err := strconv.ParseUint(k.AggregateID, 16, 64)
		if err != nil {
			continue // not a hash this reader kept: the event is read again
		}
		pos.seen[eventKey{aggregateHash: h, sequence: k.Sequence}] = at
	}
	since := pos.cursor
	if !since.Equal(in.Start) {
		since = since.Add(-eventOverlap)
	}
	if t.retention > 0 && since.Before(r.now.Add(-t.retention)) {
		r.src.set.Logger.Warn("ZITADEL may have removed activity events before they were read (audit_log_retention): "+
			"the counters miss what it removed", zap.String("instance", inst.id), zap.Time("read_up_to", since),
			zap.Duration("audit_log_retention", t.retention))
	}
	var batch activityBatch
	rd := eventRead{aggregateTypes: activity.AggregateTypes(), eventTypes: activity.EventTypes(),
		pageSize: r.src.eventPage, maxPages: t.cfg.MaxPagesPerScrape, aggregateHash: in.AggregateHash, now: r.now}
	next, end, err := r.src.client.readEvents(r.ctx, inst.sc, rd, since, pos, batch.take)
	if err != nil {
		return err
	}
	batch.applyTo(in)
	in.Position.Cursor = next.cursor
	in.Position.Seen = make(map[activity.EventKey]time.Time, len(next.seen))
	for k, at := range next.seen {
		in.Position.Seen[activity.EventKey{AggregateID: strconv.FormatUint(k.aggregateHash, 16), Sequence: k.sequence}] = at
	}
	if end {
		in.CaughtUp = true
	}
	return nil
}

func (r *scrapeRun) recordActivity(instanceID string, report activity.Report) {
	rec, ok := r.rec.(activity.Recorder)
	if !ok {
		return
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	rec.RecordActivity(instanceID, report)
	r.recorded++
}

// activityBatch holds what a read took of its events until every page is
// in: a read that fails part-way counts nothing.
type activityBatch struct {
	events []activity.Event
	// methods backs the events' AuthMethods, so that a login's methods cost
	// no allocation of their own.
	methods []int
}

// take keeps what the activity needs of an event; the payload's user agent,
// IP address and other fields are not looked at.
func (b *activityBatch) take(e *eventpb.Event) {
	if !activity.Relevant(e.GetType().GetType()) {
		return
	}
	ae := activity.Event{
		AggregateID:   e.GetAggregate().GetId(),
		AggregateType: e.GetAggregate().GetType().GetType(),
		ResourceOwner: e.GetAggregate().GetResourceOwner(),
		Type:          e.GetType().GetType(),
		Sequence:      e.GetSequence(),
		CreatedAt:     e.GetCreationDate().AsTime(),
	}
	if fields := e.GetPayload().GetFields(); fields != nil {
		ae.UserID = fields["userID"].GetStringValue()
		ae.UserResourceOwner = fields["userResourceOwner"].GetStringValue()
		ae.HasSession = fields["sessionID"].GetStringValue() != ""
		ae.ClientID = fields["clientID"].GetStringValue()
		ae.EntityID = fields["entityID"].GetStringValue()
		start := len(b.methods)
		for _, v := range fields["authMethods"].GetListValue().GetValues() {
			b.methods = append(b.methods, int(v.GetNumberValue()))
		}
		ae.AuthMethods = b.methods[start:len(b.methods):len(b.methods)]
	}
	b.events = append(b.events, ae)
}

// applyTo counts the events taken.
func (b *activityBatch) applyTo(in *activity.Instance) {
	for i := range b.events {
		in.Apply(&b.events[i])
	}
}
