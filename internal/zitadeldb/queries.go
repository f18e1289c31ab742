package zitadeldb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// Relations the receiver reads. The grants in README.md are exactly these
// (plus events_table).
const (
	relResourceCounts  = "projections.resource_counts"
	relInstances       = "projections.instances"
	relInstanceDomains = "projections.instance_domains"
)

// queries holds the SQL of one configured source, built once.
type queries struct {
	system    string // empty when events_table is empty
	instances string
	counts    string

	eventsTable string
	// countArgs are the arguments after (last id, page size).
	countArgs    []any
	instanceArgs []any
}

func newQueries(cfg *Config, filter model.ResourceFilter) (*queries, error) {
	q := &queries{eventsTable: cfg.EventsTable}

	if cfg.EventsTable != "" {
		parts, err := parseRelation(cfg.EventsTable)
		if err != nil {
			return nil, fmt.Errorf("events_table: %w", err)
		}
		events := pgx.Identifier(parts).Sanitize()
		// Both are ZITADEL's own filters on the es_projection index: the newest
		// event wins, as in ZITADEL's reducers. The version is the one `zitadel
		// setup` recorded when it last ran the projection_tables step.
		q.system = `SELECT
  (SELECT payload->>'id' FROM ` + events + `
    WHERE instance_id = '' AND aggregate_type = 'system' AND event_type = 'system.id.generated'
    ORDER BY "position" DESC, in_tx_order DESC LIMIT 1),
  (SELECT payload->'lastRun'->>'version' FROM ` + events + `
    WHERE instance_id = '' AND aggregate_type = 'system' AND aggregate_id = 'SYSTEM'
      AND event_type = 'system.migration.repeatable.done' AND payload->>'name' = 'projection_tables'
    ORDER BY "position" DESC, in_tx_order DESC LIMIT 1)`
	}

	// A LEFT JOIN keeps instances without a domain, which ZITADEL's own
	// report drops.
	var instWhere string
	if len(cfg.Instances) > 0 {
		instWhere = "\nWHERE i.id = ANY($1)"
		q.instanceArgs = []any{cfg.Instances}
	}
	q.instances = `SELECT i.id, i.creation_date,
  COALESCE(array_agg(d.domain ORDER BY d.is_primary DESC, d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}')
FROM ` + relInstances + ` i
LEFT JOIN ` + relInstanceDomains + ` d ON d.instance_id = i.id` + instWhere + `
GROUP BY i.id, i.creation_date
ORDER BY i.id`

	// ZITADEL's own page query, keyset by id (ids have gaps), plus the filters.
	var where strings.Builder
	where.WriteString("id > $1")
	if len(cfg.Instances) > 0 {
		q.countArgs = append(q.countArgs, cfg.Instances)
		fmt.Fprintf(&where, " AND instance_id = ANY($%d)", len(q.countArgs)+2)
	}
	if len(filter) > 0 {
		names := make([]string, 0, len(filter))
		for n := range filter {
			names = append(names, n)
		}
		slices.Sort(names)
		q.countArgs = append(q.countArgs, names)
		fmt.Fprintf(&where, " AND resource_name = ANY($%d)", len(q.countArgs)+2)
	}
	q.counts = `SELECT id, instance_id, table_name, parent_type, parent_id, resource_name, updated_at, amount
FROM ` + relResourceCounts + `
WHERE ` + where.String() + `
ORDER BY id LIMIT $2`
	return q, nil
}
