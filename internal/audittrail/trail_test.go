package audittrail

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// refusing passes records on to a sink unless it is told to refuse, as a
// memory_limiter or a full queue does.
type refusing struct {
	sink    *consumertest.LogsSink
	refuse  atomic.Int64 // refuse this many more calls
	err     error
	refused atomic.Int64
}

func newRefusing() *refusing {
	return &refusing{sink: new(consumertest.LogsSink), err: errors.New("data refused due to high memory usage")}
}

func (r *refusing) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if r.refuse.Add(-1) >= 0 {
		r.refused.Add(1)
		return r.err
	}
	return r.sink.ConsumeLogs(ctx, ld)
}

func (*refusing) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// pagedConfig reads pages of 1,000 events, so that the tests' few thousand
// events take several pages.
func pagedConfig() Config {
	cfg := NewDefaultConfig()
	cfg.PageSize = 1000
	return cfg
}

func newTestTrail(cfg Config, src Source, next consumer.Logs, store storage.Client, logger *zap.Logger) *Trail {
	if logger == nil {
		logger = zap.NewNop()
	}
	return New(&cfg, Settings{Source: src, Next: next, Store: store, Logger: logger})
}

// deliverAll runs passes until every instance is read to the end; it stops
// at the first failure.
func deliverAll(t testing.TB, tr *Trail) error {
	t.Helper()
	for range 10_000 {
		more, err := tr.Pass(t.Context())
		if err != nil || !more {
			return err
		}
	}
	t.Fatal("the trail never caught up")
	return nil
}

// uidCounts counts the records of each log.record.uid.
func uidCounts(t *testing.T, all []plog.Logs) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, ld := range all {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					v, ok := lr.Attributes().Get(AttrRecordUID)
					require.True(t, ok)
					counts[v.Str()]++
				}
			}
		}
	}
	return counts
}

func TestTrailDeliversEveryEventOnce(t *testing.T) {
	src := newMemReader(2500, "inst-a", "inst-b")
	sink := new(consumertest.LogsSink)
	tr := newTestTrail(pagedConfig(), src, sink, nil, nil)
	require.NoError(t, deliverAll(t, tr))

	counts := uidCounts(t, sink.AllLogs())
	assert.Len(t, counts, 5000)
	for uid, n := range counts {
		assert.Equal(t, 1, n, uid)
	}
	for _, ld := range sink.AllLogs() {
		assert.LessOrEqual(t, ld.LogRecordCount(), 1000, "one page at a time")
	}

	// New events are read from where the trail stands.
	src.add("inst-b", 10)
	before := sink.LogRecordCount()
	require.NoError(t, deliverAll(t, tr))
	assert.Equal(t, before+10, sink.LogRecordCount())
}

func TestTrailAsksTheReaderForWhatItKeeps(t *testing.T) {
	src := newMemReader(30, "inst-a")
	cfg := NewDefaultConfig()
	cfg.EventTypes.Include = []string{"user.locked", "oidc_session.added"}
	cfg.Payload = map[string][]string{"oidc_session.added": {"clientID"}}
	cfg.PageSize = 7
	sink := new(consumertest.LogsSink)
	require.NoError(t, deliverAll(t, newTestTrail(cfg, src, sink, nil, nil)))

	q := src.reads[0]
	assert.Equal(t, "inst-a", q.InstanceID)
	assert.Equal(t, []string{"user.locked", "oidc_session.added"}, q.EventTypes)
	assert.Equal(t, map[string][]string{"oidc_session.added": {"clientID"}}, q.PayloadFields)
	assert.Equal(t, 7, q.Limit)
	assert.Equal(t, 27, sink.LogRecordCount(), "every event but the three failed checks")
	assert.NotContains(t, marshalJSON(t, sink.AllLogs()[0]), "203.0.113.7")
}

func TestRefusingConsumerHoldsTheTrail(t *testing.T) {
	src := newMemReader(3000, "inst-a")
	next := newRefusing()
	core, logs := observer.New(zap.WarnLevel)
	tr := newTestTrail(pagedConfig(), src, next, nil, zap.New(core))

	_, err := tr.Pass(t.Context())
	require.NoError(t, err)
	next.refuse.Store(3)
	for range 3 {
		_, err = tr.Pass(t.Context())
		require.ErrorContains(t, err, "the next consumer did not accept 1000 audit records of instance inst-a: data refused")
	}
	// Every read while refused asked again for the page after the first.
	reads := src.reads[1:]
	require.Len(t, reads, 3)
	for _, q := range reads {
		assert.Equal(t, src.reads[1].After, q.After)
	}
	require.NoError(t, deliverAll(t, tr))
	counts := uidCounts(t, next.sink.AllLogs())
	assert.Len(t, counts, 3000, "nothing dropped")
	for _, n := range counts {
		assert.Equal(t, 1, n)
	}
	assert.Equal(t, int64(3), next.refused.Load())
	assert.Zero(t, logs.Len(), "a retryable refusal is the trail waiting, not an error")
}

func TestPermanentRefusalIsLoggedAndHoldsTheTrail(t *testing.T) {
	src := newMemReader(10, "inst-a")
	next := newRefusing()
	next.err = consumererror.NewPermanent(errors.New("HTTP 400: entry too far behind"))
	next.refuse.Store(1)
	core, logs := observer.New(zap.ErrorLevel)
	tr := newTestTrail(pagedConfig(), src, next, nil, zap.New(core))
	_, err := tr.Pass(t.Context())
	require.Error(t, err)
	require.Equal(t, 1, logs.Len())
	assert.Contains(t, logs.All()[0].Message, "the trail waits at its position")
	require.NoError(t, deliverAll(t, tr))
	assert.Equal(t, 10, next.sink.LogRecordCount())
}

func TestFailedReadDeliversNothing(t *testing.T) {
	src := newMemReader(10, "inst-a")
	src.failRead = errors.New("connection reset by peer")
	sink := new(consumertest.LogsSink)
	tr := newTestTrail(pagedConfig(), src, sink, nil, nil)
	_, err := tr.Pass(t.Context())
	require.ErrorContains(t, err, "reading the events of instance inst-a: connection reset by peer")
	src.failRead = nil
	require.NoError(t, deliverAll(t, tr))
	assert.Equal(t, 10, sink.LogRecordCount())
}

func TestUnreadableInstanceDoesNotHoldUpTheOthers(t *testing.T) {
	src := newMemReader(10, "inst-a", "inst-b")
	src.failRead, src.failInstance = errors.New("instance not found"), "inst-a"
	sink := new(consumertest.LogsSink)
	tr := newTestTrail(pagedConfig(), src, sink, nil, nil)
	_, err := tr.Pass(t.Context())
	require.ErrorContains(t, err, "reading the events of instance inst-a: instance not found")
	assert.Equal(t, 10, sink.LogRecordCount(), "inst-b's events are delivered")
}

func newFileStorage(t *testing.T, dir string) storage.Client {
	t.Helper()
	id, host := storageclienttest.FileStorage(t, dir)
	client, err := host[id].(storage.Extension).GetClient(context.Background(), component.KindReceiver,
		component.MustNewID("zitadel"), "audit_log")
	require.NoError(t, err)
	return client
}

func TestTrailContinuesAfterARestartFromStorage(t *testing.T) {
	dir := t.TempDir()
	src := newMemReader(2500, "inst-a")
	sink := new(consumertest.LogsSink)
	store := newFileStorage(t, dir)
	first := newTestTrail(pagedConfig(), src, sink, store, nil)
	_, err := first.Pass(t.Context())
	require.NoError(t, err)
	require.NoError(t, store.Close(t.Context()))

	// A new process: the same storage, a new trail.
	second := newTestTrail(pagedConfig(), src, sink, newFileStorage(t, dir), nil)
	require.NoError(t, deliverAll(t, second))
	counts := uidCounts(t, sink.AllLogs())
	assert.Len(t, counts, 2500)
	for _, n := range counts {
		assert.Equal(t, 1, n, "the restart repeats nothing it stored")
	}
}

// failingStore is a storage whose writes fail, as a full disk makes them.
type failingStore struct{ storage.Client }

func (failingStore) Set(context.Context, string, []byte) error {
	return errors.New("no space left on device")
}

func TestUnstoredPositionRepeatsWithTheSameUIDs(t *testing.T) {
	dir := t.TempDir()
	src := newMemReader(2500, "inst-a")
	sink := new(consumertest.LogsSink)
	store := newFileStorage(t, dir)
	first := newTestTrail(pagedConfig(), src, sink, store, nil)
	_, err := first.Pass(t.Context()) // stored
	require.NoError(t, err)
	core, logs := observer.New(zap.ErrorLevel)
	first.store, first.logger = failingStore{store}, zap.New(core)
	_, err = first.Pass(t.Context()) // delivered, not stored
	require.NoError(t, err)
	require.Equal(t, 1, logs.Len())
	assert.Contains(t, logs.All()[0].Message, "a restart repeats the records after the last position written")

	second := newTestTrail(pagedConfig(), src, sink, store, nil)
	require.NoError(t, deliverAll(t, second))
	counts := uidCounts(t, sink.AllLogs())
	assert.Len(t, counts, 2500, "nothing lost")
	repeated := 0
	for _, n := range counts {
		repeated += n - 1
	}
	assert.Equal(t, 1000, repeated, "the page not stored, and only it, repeats, under the same uids")
}

func TestDamagedStoredPositionReadsFromTheLookback(t *testing.T) {
	// A stored position of this format whose body (1, 2) is no cursor, its
	// bytes written out apart from the code (CRC-32C 0x93ADB2D5).
	notACursor := []byte("zitadel.audit_log.position.v1\x01\x02\x93\xad\xb2\xd5")
	for name, value := range map[string][]byte{"empty": {}, "other version": {9, 1, 2}, "not a cursor": notACursor} {
		t.Run(name, func(t *testing.T) {
			store := newFileStorage(t, t.TempDir())
			require.NoError(t, store.Set(t.Context(), storageKey("inst-a"), value))
			src := newMemReader(5, "inst-a")
			sink := new(consumertest.LogsSink)
			core, logs := observer.New(zap.WarnLevel)
			tr := newTestTrail(pagedConfig(), src, sink, store, zap.New(core))
			require.NoError(t, deliverAll(t, tr))
			assert.Equal(t, 5, sink.LogRecordCount())
			if name == "not a cursor" {
				// The reader refuses what is not its cursor (another
				// source's, after the receiver's source changed): kept, it
				// would stop the instance's trail for good.
				warned := logs.FilterMessageSnippet("not one this source can read on").All()
				require.Len(t, warned, 1)
				assert.Contains(t, fmt.Sprint(warned[0].ContextMap()["error"]), "not a cursor")
			}
		})
	}
}

// A trail with storage and no position stored says where it starts.
func TestAbsentStoredPositionIsLogged(t *testing.T) {
	store := newFileStorage(t, t.TempDir())
	core, logs := observer.New(zap.InfoLevel)
	tr := newTestTrail(pagedConfig(), newMemReader(5, "inst-a"), new(consumertest.LogsSink), store, zap.New(core))
	require.NoError(t, deliverAll(t, tr))
	said := logs.FilterMessageSnippet("No audit trail position in storage").All()
	require.Len(t, said, 1, "once, when the instance is first read")
	assert.Equal(t, "inst-a", said[0].ContextMap()["instance"])
}

// A bit flipped in a stored position is refused with a warning: read as a
// cursor it would be another position, and the events between would be lost.
func TestFlippedBitInStoredPositionLosesNothing(t *testing.T) {
	store := newFileStorage(t, t.TempDir())
	src := newMemReader(5, "inst-a")
	require.NoError(t, deliverAll(t, newTestTrail(pagedConfig(), src, new(consumertest.LogsSink), store, nil)))
	value, err := store.Get(t.Context(), storageKey("inst-a"))
	require.NoError(t, err)
	require.NotEmpty(t, value)
	value[len(value)-5] ^= 0x04 // in the position itself, before any checksum
	require.NoError(t, store.Set(t.Context(), storageKey("inst-a"), value))

	src.add("inst-a", 5)
	sink := new(consumertest.LogsSink)
	core, logs := observer.New(zap.WarnLevel)
	require.NoError(t, deliverAll(t, newTestTrail(pagedConfig(), src, sink, store, zap.New(core))))
	assert.Len(t, uidCounts(t, sink.AllLogs()), 10, "every event, the stored ones again under the same uids")
	warned := logs.FilterMessageSnippet("Audit trail position in storage not usable").All()
	require.Len(t, warned, 1)
	assert.Contains(t, fmt.Sprint(warned[0].ContextMap()["error"]), "checksum")
}

// A paused trail is the receiver's recoverable error in health_check until it
// delivers again.
func TestPausedTrailReportsItsHealth(t *testing.T) {
	src := newMemReader(5, "inst-a")
	src.failRead = errors.New("connection refused")
	host := &testkit.StatusHost{}
	sink := new(consumertest.LogsSink)
	tr := New(&Config{PageSize: 1000, PollInterval: time.Hour}, Settings{Source: src, Next: sink, Logger: zap.NewNop(), Host: host})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	require.Eventually(t, func() bool { return len(host.Statuses()) > 0 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, componentstatus.StatusRecoverableError, host.Statuses()[0])
	require.ErrorContains(t, host.Events()[0].Err(), "connection refused")

	src.mu.Lock()
	src.failRead = nil
	src.mu.Unlock()
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 5 }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(host.Statuses()) == 2 }, time.Second, 10*time.Millisecond)
	assert.Equal(t, componentstatus.StatusOK, host.Statuses()[1], "OK again once it delivers, reported once")
}

func queryOf(cfg *Config, instanceID string) zitadelevent.Query {
	q := New(cfg, Settings{}).query
	q.InstanceID = instanceID
	return q
}

func configKey(k string) configopaque.String { return configopaque.String(k) }

// countingConsumer counts the records it takes without keeping them: the
// benchmarks' next consumer holds no page after accepting it.
type countingConsumer struct{ n *atomic.Int64 }

func (c countingConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}

func (countingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
