package activity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// storageName names the receiver's storage client.
const storageName = "activity"

// Tracker keeps the activity of every instance between scrapes, and in the
// storage extension when one is configured, whichever source reads the
// events.
type Tracker struct {
	cfg Config
	// retention is ZITADEL's audit_log_retention where the reader is subject
	// to it (the api source), 0 otherwise.
	retention time.Duration
	logger    *zap.Logger
	owner     component.ID
	store     storage.Client // nil without storage

	mu        sync.Mutex
	instances map[string]*Instance
}

// NewTracker returns the tracker of an `activity:` block, nil when it is
// not enabled.
func NewTracker(cfg Config, retention time.Duration, logger *zap.Logger) *Tracker {
	if !cfg.Enabled {
		return nil
	}
	return &Tracker{cfg: cfg, retention: retention, logger: logger, instances: map[string]*Instance{}}
}

// SetOwner names the receiver its storage client belongs to.
func (t *Tracker) SetOwner(id component.ID) {
	if t != nil {
		t.owner = id
	}
}

// Start opens the storage client. A receiver with storage does not run
// without it: it would count every event of the look-back again.
func (t *Tracker) Start(ctx context.Context, host component.Host) error {
	if t == nil {
		return nil
	}
	if t.cfg.Storage == nil {
		t.logger.Info("Activity counters start again at every restart: set activity::storage to keep them")
		return nil
	}
	client, err := storageclient.Open(ctx, host, "activity::storage", *t.cfg.Storage, component.KindReceiver, t.owner, storageName)
	if err != nil {
		return err
	}
	t.store = client
	return nil
}

// Shutdown closes the storage client.
func (t *Tracker) Shutdown(ctx context.Context) error {
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
func (t *Tracker) instance(ctx context.Context, id string, now time.Time) *Instance {
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
		case data == nil:
			t.logger.Info("No activity state in storage for the instance (its first scrape, or the storage was emptied); counting starts at the look-back",
				zap.String("instance", id))
		default:
			var previous bool
			if in, previous, err = unmarshal(data); err != nil {
				t.logger.Warn("Activity state in storage refused: its counters, read position and active users are dropped, and counting starts again at the look-back",
					zap.String("instance", id), zap.Error(err))
			} else if previous {
				t.logger.Info("Activity state read in the previous format; it is written in the current one from now on",
					zap.String("instance", id), zap.String("read", StateFormat.Previous), zap.String("written", StateFormat.Current))
			}
		}
	}
	if in == nil {
		in = t.newInstance(now)
	} else {
		t.configure(in)
	}
	t.mu.Lock()
	t.instances[id] = in
	t.mu.Unlock()
	return in
}

// newInstance starts an instance's activity at the look-back before now.
func (t *Tracker) newInstance(now time.Time) *Instance {
	in := NewInstance(now.Add(-t.cfg.Lookback), t.cfg.ActiveUsersPerOrganization)
	t.configure(in)
	return in
}

// configure applies the block's settings, which a stored state does not
// carry, to an instance's activity.
func (t *Tracker) configure(in *Instance) {
	in.SetPerOrganization(t.cfg.ActiveUsersPerOrganization)
	in.SetLimits(Limits{ApplicationsPerOrganization: t.cfg.MaxApplicationsPerOrganization})
}

// Instance returns the kept activity of an instance, nil before its first scrape.
func (t *Tracker) Instance(id string) *Instance {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.instances[id]
}

// persist writes an instance's activity, so a restart continues where it is.
func (t *Tracker) persist(ctx context.Context, id string, in *Instance) {
	if t.store == nil {
		return
	}
	if err := t.store.Set(ctx, storageKey(id), in.Marshal()); err != nil {
		t.logger.Error("Activity state not written to storage; a restart counts again from the last state written",
			zap.String("instance", id), zap.Error(err))
	}
}

// Scrape reads an instance's new events, at most max_events_per_scrape,
// counts them once the read succeeded and stores the state with the new
// position in one value; it returns the activity at now. A failed read
// counts nothing and moves nothing: the next scrape reads the same events.
//
// An instance id that is not ZITADEL's is refused before anything is read,
// kept or stored under it (the sources leave such an instance out where
// they list it; this holds any other caller to the same).
func (t *Tracker) Scrape(ctx context.Context, r zitadelevent.Reader, instanceID string, now time.Time) (Report, error) {
	if p := fieldshape.CheckID(instanceID, fieldshape.MaxIDBytes); p != "" {
		return Report{}, fmt.Errorf("an instance id that is not ZITADEL's: %s", p)
	}
	in := t.instance(ctx, instanceID, now)
	err := t.read(ctx, r, instanceID, in, now)
	if errors.Is(err, zitadelevent.ErrCursor) {
		// Kept, the position would stop the activity for good.
		t.logger.Warn("Activity state's read position is not one this source can read on (the receiver's source changed, "+
			"or the state is damaged); the counters start again from the look-back", zap.String("instance", instanceID), zap.Error(err))
		in = t.newInstance(now)
		t.mu.Lock()
		t.instances[instanceID] = in
		t.mu.Unlock()
		err = t.read(ctx, r, instanceID, in, now)
	}
	rep := in.Report(now)
	t.warnCaps(instanceID, rep.Caps)
	if err == nil {
		t.persist(ctx, instanceID, in)
	}
	return rep, err
}

func (t *Tracker) read(ctx context.Context, r zitadelevent.Reader, id string, in *Instance, now time.Time) error {
	t.warnRetention(id, in, now)
	page, err := r.Read(ctx, zitadelevent.Query{
		InstanceID:     id,
		After:          in.Position.Cursor,
		Since:          in.Start,
		AggregateTypes: AggregateTypes(),
		EventTypes:     EventTypes(),
		PayloadFields:  PayloadFields(),
		Limit:          t.cfg.MaxEventsPerScrape,
	})
	if err != nil {
		return err
	}
	if page.Refused > 0 {
		t.logger.Warn("Events ZITADEL cannot have written (an impossible creation date, or an oversized id or payload) were left out of the activity",
			zap.String("instance", id), zap.Int("events", page.Refused))
	}
	in.ApplyEvents(page.Events)
	in.Position.Cursor = page.Next
	if !page.More {
		in.CaughtUp = true
	}
	return nil
}

// warnCaps names each limit the counters reached.
func (t *Tracker) warnCaps(instanceID string, caps []Cap) {
	for _, c := range caps {
		switch c.Kind {
		case CapOrganizations:
			t.logger.Warn(fmt.Sprintf("Activity events name more than %d organizations; the events of further ones are counted as organization %q",
				c.Limit, Other), zap.String("instance", instanceID))
		case CapApplications:
			t.logger.Warn(fmt.Sprintf("Logins of more than %d applications in the instance; further applications are counted as application %q",
				c.Limit, Other), zap.String("instance", instanceID))
		case CapActiveUsers:
			t.logger.Warn(fmt.Sprintf("Active users of more than %d organizations; those of further organizations are counted in the instance's only "+
				"(activity::active_users_per_organization)", c.Limit), zap.String("instance", instanceID))
		case CapApplicationsPerOrganization:
			t.logger.Warn(fmt.Sprintf("Logins of more than %d applications in one organization; further applications are counted as application %q: "+
				"raise activity::max_applications_per_organization if the organization has that many", c.Limit, Other),
				zap.String("instance", instanceID), zap.String("organization", c.Organization))
		}
	}
}

// warnRetention says when ZITADEL's audit_log_retention may have removed
// events before they were read.
func (t *Tracker) warnRetention(id string, in *Instance, now time.Time) {
	if t.retention <= 0 {
		return
	}
	readTo := in.Start
	if in.Position.Cursor != nil {
		c, err := zitadelevent.DecodeDateCursor(in.Position.Cursor, now)
		if err != nil {
			return
		}
		readTo = c.At
	}
	if readTo.Before(now.Add(-t.retention)) {
		t.logger.Warn("ZITADEL may have removed activity events before they were read (audit_log_retention): "+
			"the counters miss what it removed", zap.String("instance", id), zap.Time("read_up_to", readTo),
			zap.Duration("audit_log_retention", t.retention))
	}
}
