package zitadeldb

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

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
	if s.pool == nil {
		return zitadelevent.Page{}, errors.New("database source: not started")
	}
	if s.events == nil {
		return zitadelevent.Page{}, errNoEventsTable
	}
	return s.events.Read(ctx, q)
}
