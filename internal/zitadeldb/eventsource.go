package zitadeldb

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// eventSource is what the source offers a reader of ZITADEL's events (the
// audit trail): the instances, and their events through the source's pool.
type eventSource struct {
	mu     sync.Mutex
	reader *EventReader
}

// Instances lists the instances whose events are read: the configured
// instances, or every instance in projections.instances.
func (s *source) Instances(ctx context.Context) ([]string, error) {
	if s.pool == nil {
		return nil, errors.New("database source: not started")
	}
	sql, args := `SELECT id FROM `+relInstances+` ORDER BY id`, []any(nil)
	if len(s.cfg.Instances) > 0 {
		sql, args = `SELECT id FROM `+relInstances+` WHERE id = ANY($1) ORDER BY id`, []any{s.cfg.Instances}
	}
	var ids []string
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		qctx, cancel := s.queryContext(ctx)
		defer cancel()
		rows, err := tx.Query(qctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, explain(err, "reading instances", []string{relInstances}, s.user)
	}
	return ids, nil
}

// Read reads one page of an instance's events from events_table.
func (s *source) Read(ctx context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	r, err := s.eventReader()
	if err != nil {
		return zitadelevent.Page{}, err
	}
	return r.Read(ctx, q)
}

func (s *source) eventReader() (*EventReader, error) {
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	if s.audit.reader != nil {
		return s.audit.reader, nil
	}
	if s.pool == nil {
		return nil, errors.New("database source: not started")
	}
	table := s.cfg.EventsTable
	if table == "" {
		table = defaultEventsTable
	}
	r, err := NewEventReader(s.pool, table, s.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	s.audit.reader = r
	return r, nil
}
