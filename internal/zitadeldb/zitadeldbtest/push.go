package zitadeldbtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event is one event of a push.
type Event struct {
	InstanceID    string
	AggregateType string
	AggregateID   string
	Type          string
	Owner         string
	Creator       string
	// Payload is JSON; empty writes NULL.
	Payload string
	// CreatedAt replays an event of another time; zero is the statement's
	// timestamp, as ZITADEL writes it.
	CreatedAt time.Time
}

// pushSQL writes the events of one push as ZITADEL v4's eventstore does:
// the shared advisory lock of each instance, held until commit (what the
// readers' exclusive request waits for), the next sequence of each
// aggregate, created_at the statement's timestamp, and one position for the
// whole push taken from the clock after the lock (EXTRACT(EPOCH FROM
// clock_timestamp())) unless $9 names it, ordered inside the push by
// in_tx_order.
const pushSQL = `WITH locks AS (
  SELECT pg_advisory_xact_lock_shared('eventstore.events2'::REGCLASS::OID::INTEGER, hashtext(i))
  FROM (SELECT DISTINCT unnest($1::text[]) AS i) instances
), pos AS (
  SELECT COALESCE($9::numeric, EXTRACT(EPOCH FROM clock_timestamp())) AS p FROM (SELECT count(*) FROM locks) l
), e AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])
    WITH ORDINALITY AS e(instance_id, aggregate_type, aggregate_id, event_type, "owner", creator, payload, created_at, n)
)
INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision,
  created_at, payload, creator, "owner", "position", in_tx_order)
SELECT e.instance_id, e.aggregate_type, e.aggregate_id, e.event_type,
  COALESCE((SELECT max(s."sequence") FROM eventstore.events2 s
    WHERE s.instance_id = e.instance_id AND s.aggregate_type = e.aggregate_type AND s.aggregate_id = e.aggregate_id), 0)
    + row_number() OVER (PARTITION BY e.instance_id, e.aggregate_type, e.aggregate_id ORDER BY e.n),
  1, COALESCE(e.created_at, statement_timestamp()), e.payload, e.creator, e."owner", pos.p, e.n - 1
FROM e, pos`

// Push writes events as one ZITADEL push in the transaction (or session)
// tx; the push is visible once tx commits.
func Push(ctx context.Context, tx pgx.Tx, events ...Event) error {
	return push(ctx, tx, nil, events)
}

// push writes events as one push at position, or at the clock's if nil.
func push(ctx context.Context, tx pgx.Tx, position *string, events []Event) error {
	cols := make([][]string, 6)
	payloads := make([]*string, len(events))
	created := make([]*time.Time, len(events))
	for i, e := range events {
		if !e.CreatedAt.IsZero() {
			created[i] = &events[i].CreatedAt
		}
		for c, v := range []string{e.InstanceID, e.AggregateType, e.AggregateID, e.Type, e.Owner, e.Creator} {
			cols[c] = append(cols[c], v)
		}
		if e.Payload != "" {
			payloads[i] = &events[i].Payload
		}
	}
	_, err := tx.Exec(ctx, pushSQL, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], payloads, created, position)
	return err
}

// PushNow writes events as one push in a transaction of its own.
func (d *DB) PushNow(tb testing.TB, events ...Event) {
	tb.Helper()
	d.pushNow(tb, nil, events)
}

// PushAt writes events as one push at position (decimal epoch seconds) in
// a transaction of its own: ZITADEL's positions have microseconds, so two
// pushes of one microsecond share one, each with in_tx_order from 0.
func (d *DB) PushAt(tb testing.TB, position string, events ...Event) {
	tb.Helper()
	d.pushNow(tb, &position, events)
}

func (d *DB) pushNow(tb testing.TB, position *string, events []Event) {
	tb.Helper()
	ctx := context.Background()
	tx, err := d.Conn.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if err := push(ctx, tx, position, events); err != nil {
		_ = tx.Rollback(ctx)
		tb.Fatalf("pushing events: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}
