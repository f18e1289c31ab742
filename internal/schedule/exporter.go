package schedule

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/drain"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient"
)

// PersistDelay gathers the pieces of one scrape into one write to storage.
const PersistDelay = 10 * time.Second

// SnapshotStorageName names the exporter's storage client, apart from the
// sending queue's.
const SnapshotStorageName = "snapshot"

// Clock is the time a schedule runs on; tests drive it by hand.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a timer of a Clock.
type Timer interface {
	Chan() <-chan time.Time
	Stop() bool
}

// SystemClock is the system's time.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer implements Clock.
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ *time.Timer }

func (t systemTimer) Chan() <-chan time.Time { return t.C }

// NewRandom seeds the @daily pick and the jitter differently on every start.
func NewRandom() *rand.Rand {
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

// Reporter is what the scheduled exporter needs of the exporter it wraps.
type Reporter interface {
	// Map maps a batch to reports, logging and counting what it leaves out.
	Map(ctx context.Context, md pmetric.Metrics) *report.Built
	// Sends is the drain of the exporter's sends, which a report sent at
	// shutdown shares.
	Sends() *drain.Stop
}

// Exporter is the exporter with a schedule: batches update the
// snapshot, and at each scheduled time every system's snapshot goes through
// the embedded sender, exporterhelper's queue, retry and timeout around
// pushMetrics, as one batch of its own.
type Exporter struct {
	exporter.Metrics
	e        Reporter
	cfg      *Config
	id       component.ID
	logger   *zap.Logger
	schedule *Schedule
	clock    Clock

	mu    sync.Mutex
	snap  *snapshot
	dirty bool // changed since last written to storage

	store   storage.Client
	changed chan struct{}
	stop    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc
}

// New wraps sender, the exporter's exporterhelper, with the schedule of cfg;
// rnd picks @daily's time and the jitter.
func New(sender exporter.Metrics, e Reporter, cfg *Config, set exporter.Settings, clk Clock, rnd *rand.Rand) (*Exporter, error) {
	sched, err := cfg.start(rnd, clk.Now())
	if err != nil {
		return nil, err
	}
	return &Exporter{
		Metrics: sender, e: e, cfg: cfg, id: set.ID, logger: set.Logger,
		schedule: sched, clock: clk, snap: newSnapshot(), changed: make(chan struct{}, 1),
	}, nil
}

// ConsumeMetrics takes a batch into the snapshot; what cannot be reported is
// refused as permanent, like pushMetrics does.
func (s *Exporter) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	built := s.e.Map(ctx, md)
	defer built.Release()
	s.mu.Lock()
	s.snap.update(built.Systems(), s.clock.Now())
	s.dirty = true
	s.mu.Unlock()
	if s.store != nil {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return errors.Join(built.Errors()...)
}

func (s *Exporter) Start(ctx context.Context, host component.Host) error {
	if err := s.Metrics.Start(ctx, host); err != nil {
		return err
	}
	if s.cfg.Storage != nil {
		client, err := storageclient.Open(ctx, host, "storage", *s.cfg.Storage, component.KindExporter, s.id, SnapshotStorageName)
		if err != nil {
			return err
		}
		s.store = client
		s.load(ctx)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stop, s.done, s.cancel = make(chan struct{}), make(chan struct{}), cancel
	now := s.clock.Now()
	nominal, due := s.schedule.next(now)
	s.logger.Info("Reports are sent on a schedule", zap.String("schedule", s.schedule.expr),
		zap.String("time_zone", s.schedule.zone.String()), zap.Time("next", due))
	go s.run(runCtx, nominal, due) //nolint:gosec // G118: the schedule outlives Start's context; shutdown cancels runCtx
	return nil
}

// load reads the stored snapshot. One that cannot be read is replaced by
// what arrives next, as if the collector had started without one; each case
// is logged, with what is lost.
func (s *Exporter) load(ctx context.Context) {
	data, err := s.store.Get(ctx, SnapshotStorageKey)
	if err != nil {
		s.logger.Warn("Stored snapshot not read; starting from an empty one", zap.Error(err))
		return
	}
	if data == nil {
		s.logger.Info("No snapshot in storage (a first start, or the storage was emptied): the next report carries what arrives from now on")
		return
	}
	snap, previous, err := openSnapshot(data)
	if err != nil {
		s.logger.Warn("Stored snapshot not read; starting from an empty one: the counts it held are dropped and the next report carries only what arrives from now on",
			zap.Error(err))
		return
	}
	if previous {
		s.logger.Info("Stored snapshot read in the previous format; it is written in the current one from now on",
			zap.String("read", SnapshotFormat.Previous), zap.String("written", SnapshotFormat.Current))
	}
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
}

func (s *Exporter) run(ctx context.Context, nominal, due time.Time) {
	defer close(s.done)
	tick := s.clock.NewTimer(due.Sub(s.clock.Now()))
	defer tick.Stop()
	var flush Timer
	var flushed <-chan time.Time
	defer func() {
		if flush != nil {
			flush.Stop()
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-s.changed:
			if flush == nil {
				flush = s.clock.NewTimer(PersistDelay)
				flushed = flush.Chan()
			}
		case <-flushed:
			flush, flushed = nil, nil
			// Not ctx: a write cut short by shutdown may be lost silently.
			s.persist(context.Background())
		case <-tick.Chan():
			s.report(ctx)
			now := s.clock.Now()
			if nominal, due = s.schedule.next(nominal); !due.After(now) {
				// The report took longer than the time to the next run.
				nominal, due = s.schedule.next(now)
			}
			tick = s.clock.NewTimer(due.Sub(now))
		}
	}
}

// report sends every system's snapshot, one batch per system, after
// dropping what is older than max_age.
func (s *Exporter) report(ctx context.Context) {
	now := s.clock.Now()
	s.mu.Lock()
	if s.snap.prune(now.Add(-s.cfg.MaxAge)) {
		s.dirty = true
	}
	ids := s.snap.systemIDs()
	reports := make([]pmetric.Metrics, len(ids))
	for i, id := range ids {
		reports[i] = s.snap.systems[id].metrics(now)
	}
	s.mu.Unlock()

	if len(reports) == 0 {
		s.logger.Warn("No report sent: no counts arrived within max_age", zap.Duration("max_age", s.cfg.MaxAge))
	}
	for i, md := range reports {
		if err := s.Metrics.ConsumeMetrics(ctx, md); err != nil {
			s.logger.Error("Scheduled report not sent; the next run sends the snapshot again",
				zap.String("system_id", ids[i]), zap.Error(err))
		}
	}
	s.persist(context.Background())
}

// persist writes the snapshot to storage when it changed.
func (s *Exporter) persist(ctx context.Context) {
	if s.store == nil {
		return
	}
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return
	}
	data := s.snap.marshal()
	s.dirty = false
	s.mu.Unlock()
	if err := s.store.Set(ctx, SnapshotStorageKey, data); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		s.logger.Error("Snapshot not written to storage", zap.Error(err))
	}
}

// Shutdown stops the schedule, sends once more when send_on_shutdown is set,
// keeps the snapshot in storage and then stops the sender, which drains or
// keeps its queue.
func (s *Exporter) Shutdown(ctx context.Context) error {
	started := s.stop != nil
	if started {
		close(s.stop)
		s.cancel()
		<-s.done
	}
	var errs []error
	if started && s.cfg.SendOnShutdown {
		// Without a sending queue the report is sent (and retried) right
		// here, before the sender's own shutdown has stopped the retries:
		// the drain interrupts the send, and its end the retries too.
		s.e.Sends().StartDrain()
		rctx, cancel := context.WithCancel(ctx)
		stopRetries := context.AfterFunc(s.e.Sends().Stopping(), cancel)
		s.report(rctx)
		stopRetries()
		cancel()
	} else {
		s.persist(ctx)
	}
	if s.store != nil {
		errs = append(errs, s.store.Close(ctx))
	}
	errs = append(errs, s.Metrics.Shutdown(ctx))
	return errors.Join(errs...)
}
