package zitadeldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

// source reads ZITADEL's own counting tables: what ZITADEL's service ping
// would report, read the way it reads it.
type source struct {
	cfg    *Config
	filter model.ResourceFilter
	logger *zap.Logger
	rows   metric.Int64Counter // rows read, by query

	pool *pgxpool.Pool
	user string // the role, for the GRANT an error asks for
	q    *queries

	// activity is nil unless activity::enabled.
	activity *activity.Tracker
	// events reads events_table; nil until Start, and without
	// events_table.
	events *EventReader
	now    func() time.Time

	warnedNoSystemID bool
}

// NewSource returns the `database` source, which counts the rows it reads
// in own; act is the receiver's `activity:` block.
func NewSource(cfg *Config, act activity.Config, filter model.ResourceFilter, set component.TelemetrySettings, own *zitadelreceivermetadata.TelemetryBuilder) model.Source {
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &source{
		cfg: cfg, filter: filter, logger: logger, rows: own.ZitadelReceiverDatabaseRows,
		activity: activity.NewTracker(act, 0, logger), now: time.Now,
	}
}

// SetStorageOwner names the receiver its storage client belongs to.
func (s *source) SetStorageOwner(id component.ID) { s.activity.SetOwner(id) }

// Start prepares the pool without connecting: a database that is down at
// start-up is a scrape error, retried every scrape, not a collector that
// refuses to start.
func (s *source) Start(ctx context.Context, host component.Host) error {
	q, err := newQueries(s.cfg, s.filter)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	pc, err := s.cfg.poolConfig()
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if s.activity != nil && s.cfg.EventsTable == "" {
		return errors.New("database::events_table: activity reads the events; set events_table (eventstore.events2 or a view over it)")
	}
	if err := s.activity.Start(ctx, host); err != nil {
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	s.pool, s.user, s.q = pool, pc.ConnConfig.User, q
	if s.cfg.EventsTable == "" {
		return nil
	}
	s.events, err = NewEventReader(pool, s.cfg.EventsTable, s.cfg.Timeout)
	return err
}

// errNoEventsTable is what a reader of the events is told when the source
// reads none.
var errNoEventsTable = errors.New("database::events_table is empty, so the database source reads no events; " +
	"set it to eventstore.events2 or a view over it (the receiver README's eventstore.otelcol_audit_events for the audit trail)")

// CanReadEvents says whether the started source reads events: a consumer of
// them refuses to start with the error instead of failing every read.
func (s *source) CanReadEvents() error {
	if s.cfg.EventsTable == "" {
		return errNoEventsTable
	}
	return nil
}

func (s *source) Shutdown(ctx context.Context) error {
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	return s.activity.Shutdown(ctx)
}

// systemInfo is what the eventstore says about the installation.
type systemInfo struct {
	systemID string
	version  string
}

// Scrape reads the system id and version, the instances and every count.
// Each part runs in its own read-only transaction, so a part the role may not
// read leaves the others intact. A session that breaks ends the scrape; the
// pool reconnects on the next one.
func (s *source) Scrape(ctx context.Context, rec model.Recorder) error {
	if s.pool == nil {
		return errors.New("database source: not started")
	}
	var (
		errs      []error
		failed    int
		recorded  int
		info      systemInfo
		sessionOK = true
	)
	// What ZITADEL's tables hold is held to the shapes it issues, as the
	// API source's answers are.
	checked := model.NewCheckedRecorder(rec)
	ar, recordsActivity := rec.(activity.Recorder)
	rec = checked
	fail := func(err error) {
		errs = append(errs, err)
		failed++
		sessionOK = sessionOK && isServerError(err)
	}

	if s.q.system != "" {
		var err error
		if info, err = s.readSystem(ctx); err != nil {
			fail(err)
		}
	}
	var instances []string
	if sessionOK {
		var err error
		instances, err = s.readInstances(ctx, checked, info)
		recorded += len(instances)
		s.countRows(ctx, queryInstances, len(instances))
		if err != nil {
			fail(err)
		}
	}
	if sessionOK {
		n, err := s.readCounts(ctx, rec)
		recorded += n
		s.countRows(ctx, queryResourceCounts, n)
		if err != nil {
			fail(err)
		}
	}
	if n, err := checked.Refused(); err != nil {
		errs = append(errs, err)
		failed += n
	}

	if recordsActivity && s.activity != nil && sessionOK && len(instances) > 0 {
		for _, err := range s.scrapeActivity(ctx, ar, instances) {
			fail(err)
		}
	}

	switch {
	case len(errs) == 0:
		return nil
	case recorded == 0:
		return errors.Join(errs...)
	default:
		// One failed part per error (the counts or the resource attributes),
		// one per value left out for its shape.
		return scrapererror.NewPartialScrapeError(errors.Join(errs...), failed)
	}
}

// The query attribute's values.
const (
	queryInstances      = "instances"
	queryResourceCounts = "resource_counts"
	queryEvents         = "events"
)

func (s *source) countRows(ctx context.Context, query string, n int) {
	if n > 0 {
		s.rows.Add(context.WithoutCancel(ctx), int64(n), metric.WithAttributes(attribute.String("query", query)))
	}
}

// queryContext bounds one query by the configured timeout.
func (s *source) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.cfg.Timeout > 0 {
		return context.WithTimeout(ctx, s.cfg.Timeout)
	}
	return context.WithCancel(ctx)
}

// readOnly runs fn in a read-only transaction. Repeatable read gives every
// page of one scrape the same snapshot.
func (s *source) readOnly(ctx context.Context, fn func(pgx.Tx) error) error {
	bctx, cancel := s.queryContext(ctx)
	tx, err := s.pool.BeginTx(bctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		// Also after a cancelled scrape, bounded in case the network hangs.
		rctx, cancel := s.queryContext(context.WithoutCancel(ctx))
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	cctx, cancel := s.queryContext(ctx)
	defer cancel()
	return tx.Commit(cctx)
}

func (s *source) readSystem(ctx context.Context) (systemInfo, error) {
	var systemID, version *string
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		qctx, cancel := s.queryContext(ctx)
		defer cancel()
		return tx.QueryRow(qctx, s.q.system).Scan(&systemID, &version)
	})
	if err != nil {
		return systemInfo{}, explain(err, "reading the system id and version", []string{s.q.eventsTable}, s.user)
	}
	var info systemInfo
	if systemID != nil {
		info.systemID = *systemID
	} else if !s.warnedNoSystemID {
		s.warnedNoSystemID = true
		s.logger.Warn("no system.id.generated event found; the zitadeltelemetry exporter needs system_id set in the receiver or exporter",
			zap.String("events_table", s.q.eventsTable))
	}
	if version != nil {
		info.version = *version
	}
	return info, nil
}

// readInstances records the instances and returns the ids of those kept.
func (s *source) readInstances(ctx context.Context, rec *model.CheckedRecorder, info systemInfo) ([]string, error) {
	var ids []string
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		qctx, cancel := s.queryContext(ctx)
		defer cancel()
		rows, err := tx.Query(qctx, s.q.instances, s.q.instanceArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			in := model.Instance{SystemID: info.systemID, Version: info.version}
			if err := rows.Scan(&in.ID, &in.CreatedAt, &in.Domains); err != nil {
				return err
			}
			if rec.KeepInstance(in) {
				ids = append(ids, in.ID)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return ids, explain(err, "reading instances", []string{relInstances, relInstanceDomains}, s.user)
	}
	return ids, nil
}
