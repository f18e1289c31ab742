package audittrail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/health"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// Source is what the trail reads: the instances, and their events.
type Source interface {
	zitadelevent.Reader
	// Instances lists the instances whose events are read.
	Instances(ctx context.Context) ([]string, error)
}

// Backoff after a failed read or a refused page: the first wait, and the
// longest, so that a log store back after an outage is fed within a minute.
const (
	firstRetry = time.Second
	lastRetry  = time.Minute
)

// Trail is the delivery loop of one receiver: it reads a page of an
// instance's events, hands its records to the next consumer, and moves the
// instance's read position, in memory and in storage, only once the
// consumer accepted them. A consumer that refuses holds the trail at its
// position; nothing is dropped. It holds one page at a time.
type Trail struct {
	cfg    *Config
	source Source
	mapper *Mapper
	next   consumer.Logs
	store  storage.Client // nil: positions last until the collector stops
	obs    *receiverhelper.ObsReport
	logger *zap.Logger
	now    func() time.Time
	// host takes the trail's health when it pauses and when it runs again.
	host    component.Host
	failing bool

	positions map[string]zitadelevent.Cursor
	query     zitadelevent.Query
	instances []string
	listed    time.Time
}

// instancesEvery is how often the instances are listed again: a new
// instance's trail starts within a minute, and an installation of many
// instances is not asked for the list on every pass.
const instancesEvery = time.Minute

// Settings are what a trail needs besides its configuration.
type Settings struct {
	Source Source
	Next   consumer.Logs
	// Store keeps the read positions; nil keeps them in memory.
	Store  storage.Client
	Obs    *receiverhelper.ObsReport
	Logger *zap.Logger
	// Host takes the trail's health, as the scraper's; nil reports nothing.
	Host component.Host
}

// New is the trail of a valid configuration.
func New(cfg *Config, set Settings) *Trail {
	f := NewFilter(cfg)
	return &Trail{
		cfg: cfg, source: set.Source, mapper: NewMapper(cfg), next: set.Next, store: set.Store, obs: set.Obs,
		logger: set.Logger, now: time.Now, host: set.Host, positions: map[string]zitadelevent.Cursor{},
		query: zitadelevent.Query{
			AggregateTypes: f.AggregateTypes(), EventTypes: f.EventTypes(),
			PayloadFields: cfg.Payload, Limit: cfg.PageSize,
		},
	}
}

// Run delivers the trail until ctx ends.
func (t *Trail) Run(ctx context.Context) {
	wait := firstRetry
	for ctx.Err() == nil {
		more, err := t.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			t.logger.Warn("Audit trail paused; it continues from its read position", zap.Error(err), zap.Duration("retry_in", wait))
			t.reportHealth(err)
			sleep(ctx, wait)
			wait = min(2*wait, lastRetry)
			continue
		}
		t.reportHealth(nil)
		if !more {
			sleep(ctx, t.cfg.PollInterval)
		}
		wait = firstRetry
	}
}

// reportHealth makes a paused trail a recoverable error of the receiver,
// which health_check and zpages show until a pass delivers again. Every
// failed pass is reported, with its error; OK only after a failure, since a
// trail polls every few seconds.
func (t *Trail) reportHealth(err error) {
	if err == nil && !t.failing {
		return
	}
	t.failing = err != nil
	health.Report(t.host, err)
}

// Pass reads and delivers one page of each instance. It reports whether an
// instance has more events ready. An instance whose events cannot be read
// does not hold up the others; a page the consumer refused stops the pass,
// since the consumer would refuse the next instance's page too, and is read
// again next time.
func (t *Trail) Pass(ctx context.Context) (more bool, err error) {
	if t.instances == nil || t.now().Sub(t.listed) >= instancesEvery {
		instances, err := t.source.Instances(ctx)
		if err != nil {
			return false, fmt.Errorf("listing ZITADEL's instances: %w", err)
		}
		t.instances, t.listed = instances, t.now()
	}
	var readErrs []error
	for _, id := range t.instances {
		m, err := t.deliverPage(ctx, id)
		var rerr readError
		switch {
		case errors.As(err, &rerr):
			readErrs = append(readErrs, err)
		case err != nil:
			return false, err
		}
		more = more || m
	}
	return more, errors.Join(readErrs...)
}

// readError is a failure to read an instance's events or its position.
type readError struct{ error }

func (e readError) Unwrap() error { return e.error }

// deliverPage reads one page of an instance's events and delivers it.
func (t *Trail) deliverPage(ctx context.Context, instanceID string) (more bool, err error) {
	after, err := t.position(ctx, instanceID)
	if err != nil {
		return false, readError{err}
	}
	q := t.query
	q.InstanceID = instanceID
	q.After = after
	if after == nil {
		q.Since = t.now().Add(-t.cfg.Lookback)
	}
	page, err := t.source.Read(ctx, q)
	if errors.Is(err, zitadelevent.ErrCursor) {
		// Kept, the position would stop the instance's trail for good.
		t.logger.Warn("Audit trail position is not one this source can read on (the receiver's source changed, or the "+
			"position is damaged); the instance is read again from the start of the look-back, repeated records carry the "+
			"same log.record.uid", zap.String("instance", instanceID), zap.Error(err))
		t.positions[instanceID] = nil
		q.After, q.Since = nil, t.now().Add(-t.cfg.Lookback)
		after = nil
		page, err = t.source.Read(ctx, q)
	}
	if err != nil {
		return false, readError{fmt.Errorf("reading the events of instance %s: %w", instanceID, err)}
	}
	if page.Refused > 0 {
		t.logger.Warn("Events with a creation date ZITADEL cannot have written were left out of the audit trail",
			zap.String("instance", instanceID), zap.Int("events", page.Refused))
	}
	logs := plog.NewLogs()
	st := t.mapper.Append(logs, instanceID, page.Events, t.now())
	if st.Unreadable > 0 {
		t.logger.Warn("Audit records sent without their named payload fields: the payload was not a JSON object",
			zap.String("instance", instanceID), zap.Int("records", st.Unreadable))
	}
	if st.Records > 0 {
		if err := t.consume(ctx, logs, st.Records); err != nil {
			return false, fmt.Errorf("the next consumer did not accept %d audit records of instance %s: %w", st.Records, instanceID, err)
		}
	}
	if page.Next != nil && !bytes.Equal(page.Next, after) {
		t.advance(ctx, instanceID, page.Next)
	}
	return page.More, nil
}

func (t *Trail) consume(ctx context.Context, logs plog.Logs, n int) error {
	if t.obs != nil {
		ctx = t.obs.StartLogsOp(ctx)
	}
	err := t.next.ConsumeLogs(ctx, logs)
	if t.obs != nil {
		t.obs.EndLogsOp(ctx, "zitadel_event", n, err)
	}
	if consumererror.IsPermanent(err) {
		// Dropping the page would leave a hole in an audit trail: the trail
		// waits at its position until the pipeline takes the records.
		t.logger.Error("The pipeline refused audit records for good; the trail waits at its position until it takes them",
			zap.Error(err))
	}
	return err
}

// positionFormat is how an instance's read position is stored, as the
// activity's state is: versioned and checksummed, so that a value damaged in
// storage or written by another version is refused, not read as another
// position that would skip events.
var positionFormat = storedform.Format{What: "audit trail position", Current: "zitadel.audit_log.position.v1"}

func storageKey(instanceID string) string { return "instance/" + instanceID }

// position is an instance's read position: from memory, else from storage,
// else nil, the start of the look-back.
func (t *Trail) position(ctx context.Context, instanceID string) (zitadelevent.Cursor, error) {
	if c, ok := t.positions[instanceID]; ok {
		return c, nil
	}
	var c zitadelevent.Cursor
	if t.store != nil {
		data, err := t.store.Get(ctx, storageKey(instanceID))
		if err != nil {
			// Reading from the look-back instead would repeat what was sent.
			return nil, fmt.Errorf("reading the audit trail's position of instance %s from storage: %w", instanceID, err)
		}
		if data == nil {
			t.logger.Info("No audit trail position in storage for the instance (its first read, or the storage was emptied); "+
				"the trail starts at the look-back", zap.String("instance", instanceID))
		} else {
			body, _, err := positionFormat.Open(data)
			if err != nil {
				t.logger.Warn("Audit trail position in storage not usable; the instance is read again from the start of the look-back, "+
					"repeated records carry the same log.record.uid", zap.String("instance", instanceID), zap.Error(err))
			} else {
				c = zitadelevent.Cursor(body)
			}
		}
	}
	t.positions[instanceID] = c
	return c, nil
}

// advance moves an instance's read position after the consumer accepted
// what came before it. A position not stored is kept in memory: a restart
// repeats from the last one stored, with the same log.record.uid.
func (t *Trail) advance(ctx context.Context, instanceID string, next zitadelevent.Cursor) {
	next = append(zitadelevent.Cursor(nil), next...)
	t.positions[instanceID] = next
	if t.store == nil {
		return
	}
	value := positionFormat.Seal(append(positionFormat.Start(len(next)), next...))
	if err := t.store.Set(context.WithoutCancel(ctx), storageKey(instanceID), value); err != nil {
		t.logger.Error("Audit trail position not written to storage; a restart repeats the records after the last position written",
			zap.String("instance", instanceID), zap.Error(err))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}
