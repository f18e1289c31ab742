package zitadeltelemetry

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/schedule"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// fakeClock is a clock that moves only when a test sets it. armed receives
// the duration of every timer the exporter arms, so a test knows when the
// exporter is done with a run and waits for the next.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan time.Duration
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	ch    chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan time.Duration, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) schedule.Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.armed <- d
	return t
}

func (t *fakeTimer) Chan() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	n := len(t.clock.timers)
	t.clock.timers = slices.DeleteFunc(t.clock.timers, func(o *fakeTimer) bool { return o == t })
	return len(t.clock.timers) < n
}

// set moves the clock to now and fires the timers due by then.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(now) {
			return false
		}
		t.ch <- now
		return true
	})
}

// waitTick waits until the exporter arms its schedule's timer and returns
// its duration; storage write timers are passed over.
func (c *fakeClock) waitTick(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case d := <-c.armed:
			if d != schedule.PersistDelay {
				return d
			}
		case <-deadline:
			t.Fatal("the exporter armed no timer for its schedule")
		}
	}
}

// waitPersistTimer waits until the exporter arms its storage write timer.
func (c *fakeClock) waitPersistTimer(t *testing.T) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case d := <-c.armed:
			if d == schedule.PersistDelay {
				return
			}
		case <-deadline:
			t.Fatal("the exporter armed no timer to write its snapshot")
		}
	}
}

const scheduledSystem = "scheduled-system"

var scheduleStart = time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)

func scheduledConfig(s *telemetryserver.Server) *ExporterConfig {
	cfg := testExporterConfig(ProtocolHTTP, s)
	cfg.Schedule = "0 2 * * *"
	cfg.MaxAge = 48 * time.Hour
	return cfg
}

// startScheduled starts the exporter the factory would build, on clk, and
// waits for its first run to be scheduled.
func startScheduled(t *testing.T, cfg *ExporterConfig, set exporter.Settings, clk *fakeClock, host component.Host) exporter.Metrics {
	t.Helper()
	require.NoError(t, cfg.Validate())
	exp, err := newMetricsExporter(context.Background(), set, cfg, clk, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), host))
	clk.waitTick(t)
	return exp
}

func stopScheduled(t *testing.T, exp exporter.Metrics) {
	t.Helper()
	require.NoError(t, exp.Shutdown(context.Background()))
}

// splitBatch cuts md into batches of at most maxPoints data points, as the
// batch processor's send_batch_max_size does: every piece keeps its resource.
func splitBatch(md pmetric.Metrics, maxPoints int) []pmetric.Metrics {
	var out []pmetric.Metrics
	var cur pmetric.Metrics
	var room int
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				points := m.Sum().DataPoints()
				for i := 0; i < points.Len(); {
					if room == 0 {
						cur = pmetric.NewMetrics()
						out = append(out, cur)
						room = maxPoints
					}
					piece := cur.ResourceMetrics().AppendEmpty()
					rm.Resource().CopyTo(piece.Resource())
					psm := piece.ScopeMetrics().AppendEmpty()
					sm.Scope().CopyTo(psm.Scope())
					pm := psm.Metrics().AppendEmpty()
					pm.SetName(m.Name())
					sum := pm.SetEmptySum()
					sum.SetAggregationTemporality(m.Sum().AggregationTemporality())
					for ; i < points.Len() && room > 0; i, room = i+1, room-1 {
						points.At(i).CopyTo(sum.DataPoints().AppendEmpty())
					}
				}
			}
		}
	}
	return out
}

func TestScheduledReportIsWholeWhateverPiecesTheBatchesCameIn(t *testing.T) {
	srv := startTelemetryServer(t)
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, scheduledConfig(srv), exportertest.NewNopSettings(ExporterType), clk, testkit.ExtensionsHost{})
	defer stopScheduled(t, exp)

	md := testkit.ContractMetrics(scheduledSystem, 3, 40, model.ResourceUser, model.ResourceProject, model.ResourceSession)
	pieces := splitBatch(md, 100)
	require.Len(t, pieces, 4, "360 counts in pieces of 100")
	for _, p := range pieces {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), p))
	}
	assert.Empty(t, srv.Requests(), "nothing is sent before the scheduled time")

	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	assert.Equal(t, 24*time.Hour, clk.waitTick(t), "the next run is a day later")
	snap, ok := srv.Snapshot(scheduledSystem)
	require.True(t, ok)
	assert.Equal(t, 1, snap.Reports, "one report for four batches")
	assert.Len(t, snap.Rows, 360)
	require.Len(t, snap.Instances, 3)
	assert.Equal(t, []string{"i0.zitadel.example"}, snap.Instances[0].Domains)
	assert.Equal(t, "v4.2.0", snap.Version)
	assert.Len(t, srv.Requests(), 2, "one base information and one page")

	// The next day sends the snapshot again, whole, though nothing new came.
	clk.set(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, _ = srv.Snapshot(scheduledSystem)
	assert.Equal(t, 2, snap.Reports)
	assert.Len(t, snap.Rows, 360)
}

func TestWithoutScheduleEveryPieceIsAReportAndOneWarningSaysSo(t *testing.T) {
	srv := startTelemetryServer(t)
	set, logs := observedSettings(zapcore.WarnLevel)
	exp := startExporter(t, testExporterConfig(ProtocolHTTP, srv), set)

	md := testkit.ContractMetrics(scheduledSystem, 3, 40, model.ResourceUser, model.ResourceProject, model.ResourceSession)
	// The same batch twice (a retry, the next scrape) is no sign of pieces.
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	assert.Zero(t, logs.Len())

	for _, p := range splitBatch(md, 100) {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), p))
	}
	snap, _ := srv.Snapshot(scheduledSystem)
	assert.Equal(t, 2+4, snap.Reports, "each piece went out as a report of its own")
	warnings := logs.FilterMessageSnippet("Set the exporter's schedule").All()
	require.Len(t, warnings, 1, "one warning, however many pieces")
	assert.Equal(t, scheduledSystem, warnings[0].ContextMap()["system_id"])
}

// pointsOf rewrites md's data points: the amount by f, and the time.
func pointsOf(md pmetric.Metrics, at time.Time, f func(resource string, amount int64) int64) pmetric.Metrics {
	out := pmetric.NewMetrics()
	md.CopyTo(out)
	for _, rm := range out.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				for _, dp := range m.Sum().DataPoints().All() {
					name, _ := dp.Attributes().Get(contract.AttrResourceName)
					dp.SetIntValue(f(name.Str(), dp.IntValue()))
					dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
				}
			}
		}
	}
	return out
}

func TestSnapshotFromTwoReceiversKeepsTheNewestValueAndInstanceInformation(t *testing.T) {
	srv := startTelemetryServer(t)
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, scheduledConfig(srv), exportertest.NewNopSettings(ExporterType), clk, testkit.ExtensionsHost{})
	defer stopScheduled(t, exp)

	// One receiver counts users, the other projects, of the same instances;
	// the first one counts users again later, with new amounts and domains.
	users := testkit.ContractMetrics(scheduledSystem, 2, 5, model.ResourceUser)
	projects := testkit.ContractMetrics(scheduledSystem, 2, 5, model.ResourceProject)
	later := pointsOf(users, testkit.Observed.Add(time.Hour), func(_ string, v int64) int64 { return v + 1000 })
	rm := later.ResourceMetrics().At(0)
	rm.Resource().Attributes().PutEmptySlice(contract.ResAttrDomains).AppendEmpty().SetStr("renamed.zitadel.example")
	rm.Resource().Attributes().PutStr(contract.ResAttrVersion, "v4.3.0")
	for _, md := range []pmetric.Metrics{users, projects, later} {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	}

	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot(scheduledSystem)
	require.True(t, ok)
	assert.Equal(t, 1, snap.Reports)
	assert.Len(t, snap.Rows, 20, "2 instances x 5 organizations x 2 resources")
	for _, r := range snap.Rows {
		switch r.ResourceName {
		case model.ResourceUser:
			assert.GreaterOrEqual(t, r.Amount, uint32(1000), "the newest user count")
			assert.Equal(t, testkit.Observed.Add(time.Hour), r.UpdatedAt.AsTime())
		case model.ResourceProject:
			assert.Less(t, r.Amount, uint32(1000))
			assert.Equal(t, testkit.Observed, r.UpdatedAt.AsTime())
		}
	}
	require.Len(t, snap.Instances, 2)
	assert.Equal(t, []string{"renamed.zitadel.example"}, snap.Instances[0].Domains, "instance information of the newest resource")
	assert.Equal(t, []string{"i1.zitadel.example"}, snap.Instances[1].Domains)
	assert.Equal(t, "v4.3.0", snap.Version)
}

func TestCountsNotRefreshedForMaxAgeDropOut(t *testing.T) {
	srv := startTelemetryServer(t)
	set, logs := observedSettings(zapcore.WarnLevel)
	cfg := scheduledConfig(srv)
	cfg.MaxAge = time.Hour
	clk := newFakeClock(scheduleStart.Add(-30 * time.Minute)) // 00:30
	exp := startScheduled(t, cfg, set, clk, testkit.ExtensionsHost{})
	defer stopScheduled(t, exp)

	// 00:30: instances 0 and 1, users and projects.
	require.NoError(t, exp.ConsumeMetrics(context.Background(),
		testkit.ContractMetrics(scheduledSystem, 2, 3, model.ResourceUser, model.ResourceProject)))
	// 01:30: instance 0's users only.
	clk.set(time.Date(2026, 3, 1, 1, 30, 0, 0, time.UTC))
	fresh := testkit.ContractMetrics(scheduledSystem, 1, 3, model.ResourceUser)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), fresh))

	// 02:00: what 00:30 brought is 90 minutes old.
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot(scheduledSystem)
	require.True(t, ok)
	require.Len(t, snap.Rows, 3)
	for _, r := range snap.Rows {
		assert.Equal(t, model.ResourceUser, r.ResourceName)
	}
	require.Len(t, snap.Instances, 1, "an instance without rows drops out of the base information")
	assert.Equal(t, fresh.ResourceMetrics().At(0).Resource().Attributes().AsRaw()[contract.ResAttrInstanceID], snap.Instances[0].Id)

	// Nothing new for a day: nothing is left to send, and the log says why.
	requests := len(srv.Requests())
	clk.set(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	assert.Len(t, srv.Requests(), requests)
	assert.Equal(t, 1, logs.FilterMessageSnippet("no counts arrived within max_age").Len())
}

func TestScheduledReportKeepsTheErrorContract(t *testing.T) {
	srv := startTelemetryServer(t)
	set, logs := observedSettings(zapcore.ErrorLevel)
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, scheduledConfig(srv), set, clk, testkit.ExtensionsHost{})
	defer stopScheduled(t, exp)

	md := testkit.ContractMetrics(scheduledSystem, 1, 2, model.ResourceUser)
	bad := testkit.ContractMetrics(scheduledSystem, 1, 1, model.ResourceUser)
	bad.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).SetIntValue(-1)
	err := exp.ConsumeMetrics(context.Background(), bad)
	require.Error(t, err, "a value that cannot be sent is refused when it arrives")
	assert.True(t, consumererror.IsPermanent(err))
	assert.ErrorContains(t, err, "amount -1 is outside")
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

	srv.Fail(1, codes.InvalidArgument)
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	require.Equal(t, 1, logs.FilterMessageSnippet("Scheduled report not sent").Len())
	assert.Contains(t, logs.All()[0].ContextMap()["error"], "ReportBaseInformation")

	clk.set(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot(scheduledSystem)
	require.True(t, ok, "the next run sends the snapshot again")
	assert.Len(t, snap.Rows, 2)
}

func TestScheduleRunsOnTheZonesWallClockAcrossDaylightSaving(t *testing.T) {
	srv := startTelemetryServer(t)
	cfg := scheduledConfig(srv)
	cfg.Schedule = "30 2 * * *"
	cfg.TimeZone = "Europe/Berlin"
	clk := newFakeClock(time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC))
	exp, err := newMetricsExporter(context.Background(), exportertest.NewNopSettings(ExporterType), cfg, clk, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), testkit.ExtensionsHost{}))
	defer stopScheduled(t, exp)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics(scheduledSystem, 1, 1, model.ResourceUser)))

	// 29 March: 02:30 does not exist in Berlin; the run is at that instant,
	// 03:30 summer time, 01:30 UTC, 13.5 hours after the start.
	assert.Equal(t, 13*time.Hour+30*time.Minute, clk.waitTick(t))
	clk.set(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC))
	// 30 March 02:30 summer time is 00:30 UTC: 23 hours later.
	assert.Equal(t, 23*time.Hour, clk.waitTick(t))
	snap, _ := srv.Snapshot(scheduledSystem)
	assert.Equal(t, 1, snap.Reports)
}

func startFileStorage(t *testing.T, dir string) (component.ID, component.Component) {
	t.Helper()
	id, host := storageclienttest.FileStorage(t, dir)
	return id, host[id]
}

func TestSnapshotSurvivesARestartWithStorage(t *testing.T) {
	srv := startTelemetryServer(t)
	dir := t.TempDir()
	id, ext := startFileStorage(t, dir)
	cfg := scheduledConfig(srv)
	cfg.Storage = &id
	host := testkit.ExtensionsHost{id: ext}
	set := exportertest.NewNopSettings(ExporterType) // one id for both runs

	// The first run takes a batch at 01:00 and stops before the report.
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, cfg, set, clk, host)
	require.NoError(t, exp.ConsumeMetrics(context.Background(),
		testkit.ContractMetrics(scheduledSystem, 2, 10, model.ResourceUser, model.ResourceProject)))
	// A second batch, written by the delayed write, not only on shutdown.
	clk.waitPersistTimer(t)
	clk.set(scheduleStart.Add(schedule.PersistDelay))
	stopScheduled(t, exp)
	require.Empty(t, srv.Requests())

	// The second run has received nothing when its schedule comes.
	clk = newFakeClock(scheduleStart.Add(30 * time.Minute))
	exp = startScheduled(t, cfg, set, clk, host)
	defer stopScheduled(t, exp)
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot(scheduledSystem)
	require.True(t, ok, "the snapshot came back from storage")
	assert.Len(t, snap.Rows, 40)
	assert.Len(t, snap.Instances, 2)
}

func TestADamagedStoredSnapshotIsReplaced(t *testing.T) {
	srv := startTelemetryServer(t)
	id, ext := startFileStorage(t, t.TempDir())
	set, logs := observedSettings(zapcore.WarnLevel)
	ctx := context.Background()
	client, err := ext.(storage.Extension).GetClient(ctx, component.KindExporter, set.ID, schedule.SnapshotStorageName)
	require.NoError(t, err)
	require.NoError(t, client.Set(ctx, schedule.SnapshotStorageKey, []byte(schedule.SnapshotFormat.Current+"\x05")))
	require.NoError(t, client.Close(ctx))

	cfg := scheduledConfig(srv)
	cfg.Storage = &id
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, cfg, set, clk, testkit.ExtensionsHost{id: ext})
	defer stopScheduled(t, exp)
	assert.Equal(t, 1, logs.FilterMessageSnippet("Stored snapshot not read").Len())
	require.NoError(t, exp.ConsumeMetrics(ctx, testkit.ContractMetrics(scheduledSystem, 1, 2, model.ResourceUser)))
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, _ := srv.Snapshot(scheduledSystem)
	assert.Len(t, snap.Rows, 2)
}

func TestStorageMustBeAStorageExtension(t *testing.T) {
	srv := startTelemetryServer(t)
	cfg := scheduledConfig(srv)
	missing := component.MustNewIDWithName("file_storage", "missing")
	cfg.Storage = &missing
	exp, err := newMetricsExporter(context.Background(), exportertest.NewNopSettings(ExporterType), cfg,
		newFakeClock(scheduleStart), rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	err = exp.Start(context.Background(), testkit.ExtensionsHost{})
	assert.ErrorContains(t, err, `storage: extension "file_storage/missing" is not configured`)
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestSendOnShutdown(t *testing.T) {
	for _, send := range []bool{false, true} {
		srv := startTelemetryServer(t)
		cfg := scheduledConfig(srv)
		cfg.SendOnShutdown = send
		exp := startScheduled(t, cfg, exportertest.NewNopSettings(ExporterType), newFakeClock(scheduleStart), testkit.ExtensionsHost{})
		require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics(scheduledSystem, 2, 3, model.ResourceUser)))
		stopScheduled(t, exp)
		snap, ok := srv.Snapshot(scheduledSystem)
		require.Equal(t, send, ok, "send_on_shutdown: %v", send)
		if send {
			assert.Equal(t, 1, snap.Reports)
			assert.Len(t, snap.Rows, 6)
		}
	}
}

// A report the persistent queue took is sent after a restart, though the
// endpoint was down at the scheduled time and nothing new arrives.
func TestAReportTakenByThePersistentQueueSurvivesARestart(t *testing.T) {
	srv := startTelemetryServer(t)
	id, ext := startFileStorage(t, t.TempDir())
	host := testkit.ExtensionsHost{id: ext}
	set := exportertest.NewNopSettings(ExporterType)
	cfg := scheduledConfig(srv)
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.StorageID = &id
	cfg.QueueConfig = configoptional.Some(queue)
	cfg.RetryConfig.Enabled = true
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 10 * time.Millisecond

	srv.Fail(1<<30, codes.Unavailable)
	clk := newFakeClock(scheduleStart)
	exp := startScheduled(t, cfg, set, clk, host)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics(scheduledSystem, 2, 3, model.ResourceUser)))
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	stopScheduled(t, exp)
	_, ok := srv.Snapshot(scheduledSystem)
	require.False(t, ok, "the endpoint took nothing")

	srv.Fail(0, codes.OK)
	exp = startScheduled(t, cfg, set, newFakeClock(scheduleStart.Add(2*time.Hour)), host)
	defer stopScheduled(t, exp)
	require.Eventually(t, func() bool {
		snap, ok := srv.Snapshot(scheduledSystem)
		return ok && len(snap.Rows) == 6
	}, 20*time.Second, 10*time.Millisecond, "the queue sends the report it kept")
}

// observedSettings are exporter settings whose log a test reads.
func observedSettings(level zapcore.Level) (exporter.Settings, *observer.ObservedLogs) {
	core, logs := observer.New(level)
	set := exportertest.NewNopSettings(ExporterType)
	set.Logger = zap.New(core)
	return set, logs
}

// TestASnapshotOfThePreviousFormatSurvivesTheUpgrade: a collector upgraded
// over its storage reports the snapshot its previous version kept, and says
// so; a start without one says that too.
func TestASnapshotOfThePreviousFormatSurvivesTheUpgrade(t *testing.T) {
	srv := startTelemetryServer(t)
	id, ext := startFileStorage(t, t.TempDir())
	set, logs := observedSettings(zapcore.InfoLevel)
	cfg := scheduledConfig(srv)
	cfg.Storage = &id

	exp := startScheduled(t, cfg, set, newFakeClock(scheduleStart), testkit.ExtensionsHost{id: ext})
	stopScheduled(t, exp)
	assert.Equal(t, 1, logs.FilterMessageSnippet("No snapshot in storage").Len())

	// What the previous version wrote: system "sys", one instance, two organizations' users.
	old, err := os.ReadFile("internal/schedule/testdata/snapshot.zitadeltelemetry.snapshot.v1.bin")
	require.NoError(t, err)
	ctx := context.Background()
	client, err := ext.(storage.Extension).GetClient(ctx, component.KindExporter, set.ID, schedule.SnapshotStorageName)
	require.NoError(t, err)
	require.NoError(t, client.Set(ctx, schedule.SnapshotStorageKey, old))
	require.NoError(t, client.Close(ctx))

	// The snapshot was taken at testkit.Observed; the next run is within max_age of it.
	clk := newFakeClock(testkit.Observed)
	exp = startScheduled(t, cfg, set, clk, testkit.ExtensionsHost{id: ext})
	defer stopScheduled(t, exp)
	assert.Equal(t, 1, logs.FilterMessageSnippet("read in the previous format").Len())
	clk.set(time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot("sys")
	require.True(t, ok, "the snapshot of the previous format was reported")
	assert.Len(t, snap.Rows, 2)
}
