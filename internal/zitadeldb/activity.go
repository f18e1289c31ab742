package zitadeldb

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// milestoneNames are ZITADEL's milestone types as its milestone.reached
// events name them: the snake-case name, or (in older releases) the number
// of zitadel.milestone.v1.MilestoneType. No other type is kept.
var milestoneNames = []string{
	"instance_created",
	"authentication_succeeded_on_instance",
	"project_created",
	"application_created",
	"authentication_succeeded_on_application",
	"instance_deleted",
}

func milestoneName(typ string) string {
	if n, err := strconv.Atoi(typ); err == nil {
		if n >= 1 && n <= len(milestoneNames) {
			return milestoneNames[n-1]
		}
		return ""
	}
	for _, m := range milestoneNames {
		if m == typ {
			return m
		}
	}
	return ""
}

// milestonesQuery reads the milestones of the scraped instances through
// es_projection: of each instance, the first row of each of ZITADEL's types
// (in each of its spellings), so that a table of junk or repeated
// milestones in one instance neither grows the read nor pushes a type of
// its own or another instance's out.
func (s *source) milestonesQuery() string {
	return `SELECT i.id, m.typ, m.reached, m.created_at
FROM unnest($1::text[]) AS i(id)
CROSS JOIN unnest($2::text[]) AS t(typ)
CROSS JOIN LATERAL (
  SELECT t.typ, COALESCE(payload->>'reachedDate', '') AS reached, created_at
  FROM ` + s.events.table + `
  WHERE instance_id = i.id AND aggregate_type = 'milestone' AND event_type = 'milestone.reached'
    AND payload->>'type' = t.typ
  ORDER BY "position", in_tx_order
  LIMIT 1
) m`
}

// milestoneTypeTexts are the type values milestoneName takes, as the
// payload's text: the names and the numbers of older releases.
func milestoneTypeTexts() []string {
	out := append([]string(nil), milestoneNames...)
	for n := range milestoneNames {
		out = append(out, strconv.Itoa(n+1))
	}
	return out
}

// readMilestones returns the reached milestones of each instance.
func (s *source) readMilestones(ctx context.Context, instances []string) (map[string][]activity.Milestone, int, error) {
	out := map[string][]activity.Milestone{}
	rows := 0
	now := time.Now()
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		qctx, cancel := s.queryContext(ctx)
		defer cancel()
		r, err := tx.Query(qctx, s.milestonesQuery(), instances, milestoneTypeTexts())
		if err != nil {
			return err
		}
		defer r.Close()
		seen := map[[2]string]bool{}
		for r.Next() {
			rows++
			var id, typ, reached string
			var created time.Time
			if err := r.Scan(&id, &typ, &reached, &created); err != nil {
				return err
			}
			name := milestoneName(typ)
			at, perr := time.Parse(time.RFC3339Nano, reached)
			if perr != nil {
				at = created
			}
			if name == "" || seen[[2]string{id, name}] || !zitadelevent.Plausible(at, now) {
				continue
			}
			seen[[2]string{id, name}] = true
			out[id] = append(out[id], activity.Milestone{Type: name, ReachedAt: at})
		}
		return r.Err()
	})
	if err != nil {
		return nil, rows, explain(err, "reading milestones", []string{s.cfg.EventsTable}, s.user)
	}
	return out, rows, nil
}

// scrapeActivity reads each instance's new activity events and its
// milestones, and records the activity of each.
func (s *source) scrapeActivity(ctx context.Context, rec activity.Recorder, instances []string) []error {
	milestones, rows, err := s.readMilestones(ctx, instances)
	s.countRows(ctx, queryEvents, rows)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range instances {
		if ctx.Err() != nil {
			return append(errs, ctx.Err())
		}
		reader := &countingReader{Reader: s.events}
		rep, err := s.activity.Scrape(ctx, reader, id, s.now())
		s.countRows(ctx, queryEvents, reader.rows)
		if err != nil {
			errs = append(errs, err)
		}
		rep.Milestones = milestones[id]
		rec.RecordActivity(id, rep)
	}
	return errs
}

// countingReader counts the reads (one query each) and rows of the activity.
type countingReader struct {
	zitadelevent.Reader
	reads, rows int
}

func (c *countingReader) Read(ctx context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	p, err := c.Reader.Read(ctx, q)
	c.reads++
	c.rows += len(p.Events) + p.Refused
	return p, err
}
