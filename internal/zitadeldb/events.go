package zitadeldb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// maxMergedPairs bounds the (aggregate type, event type) pairs read one by
// one and merged; a query naming more is read in windows of creation, as
// one naming no pairs.
const maxMergedPairs = 256

// maxPayloadFields bounds the payload fields named for one event type:
// jsonb_build_object takes at most 100 arguments.
const maxPayloadFields = 50

// Bounds a damaged or hostile table cannot move: an event whose id,
// creator and named payload fields together exceed maxEventBytes is
// refused, and a page ends early (More) once it holds maxPageBytes.
// ZITADEL's own events of a login hold a few hundred bytes of it.
const (
	maxEventBytes = 64 << 10
	maxPageBytes  = 64 << 20
)

// closeTimeout bounds ending a session whose read failed.
const closeTimeout = 5 * time.Second

// lockEvents is ZITADEL's guard against events that commit after later
// ones (AwaitOpenTransactions in ZITADEL's eventstore): every push holds the
// shared advisory lock of its instance until it commits, so taking and
// releasing the exclusive one waits for every push of the instance in
// flight. The key is eventstore.events2's own, whatever relation is read.
const lockEvents = `SELECT pg_advisory_lock('eventstore.events2'::REGCLASS::OID::INTEGER, hashtext($1)),
  pg_advisory_unlock('eventstore.events2'::REGCLASS::OID::INTEGER, hashtext($1))`

// EventReader reads eventstore.events2, or a view over it with the same
// columns, in ZITADEL's own order (position, in_tx_order) through the
// es_projection index, ties broken by the event's identity: every event of
// a push shares its position, and pushes of one microsecond share one
// with in_tx_order from 0 each. A read that sees one event of a position
// sees all of them (their pushes held the shared lock before the read's
// transaction began), so a cursor of that whole order loses none.
//
// One read is one transaction of one round trip: BEGIN (READ COMMITTED, so
// the read's snapshot is taken after the lock is released), the lock, the
// page, COMMIT. Its events end at the transaction's start (position <=
// now()): a push that began later takes its position after the lock was
// released, so nothing before the cursor can commit afterwards.
type EventReader struct {
	pool     *pgxpool.Pool
	table    string // sanitized
	relation string // as configured, for the GRANT an error asks for
	user     string
	timeout  time.Duration
	now      func() time.Time
	// pageBytes is maxPageBytes, smaller in tests.
	pageBytes int
}

// NewEventReader reads the events of relation ("eventstore.events2" or a
// view) through pool; timeout bounds one read, lock wait included.
func NewEventReader(pool *pgxpool.Pool, relation string, timeout time.Duration) (*EventReader, error) {
	parts, err := parseRelation(relation)
	if err != nil {
		return nil, fmt.Errorf("events_table: %w", err)
	}
	return &EventReader{
		pool: pool, table: pgx.Identifier(parts).Sanitize(), relation: relation,
		user: pool.Config().ConnConfig.User, timeout: timeout, now: time.Now, pageBytes: maxPageBytes,
	}, nil
}

// The columns read, in this order.
const (
	colAggregateType = iota
	colAggregateID
	colSequence
	colEventType
	colCreatedAt
	colOwner
	colCreator
	colPayload
	colPosition
	colInTxOrder
	// colReadTo is where the read ended: every event at or before it has
	// been returned unless the page is full (NULL where unknown).
	colReadTo
	// colWindowed is whether colReadTo is a window's end short of now().
	colWindowed
	columns
)

// Read returns the events of one instance after q.After, oldest first.
func (r *EventReader) Read(ctx context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	if q.Limit < 1 {
		return zitadelevent.Page{}, errors.New("event read: limit must be at least 1")
	}
	after, err := decodeCursor(q.After, q.Since)
	if err != nil {
		return zitadelevent.Page{}, err
	}
	sql, args, err := r.pageQuery(q, after)
	if err != nil {
		return zitadelevent.Page{}, err
	}
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY")
	b.Queue(lockEvents, q.InstanceID)
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return zitadelevent.Page{}, r.explain(err)
	}
	defer conn.Release()
	res := conn.SendBatch(ctx, b)
	page, err := r.readPage(res, q, after)
	if cerr := res.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		// A batch cut short leaves its transaction open, and perhaps the
		// advisory lock taken: the session ends.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		_ = conn.Conn().Close(cctx)
		cancel()
		return zitadelevent.Page{}, r.explain(err)
	}
	return page, nil
}

func (r *EventReader) explain(err error) error {
	return explain(err, "reading events", []string{r.relation}, r.user)
}

func (r *EventReader) readPage(res pgx.BatchResults, q zitadelevent.Query, after cursor) (zitadelevent.Page, error) {
	for range 2 { // BEGIN, the lock
		if _, err := res.Exec(); err != nil {
			return zitadelevent.Page{}, err
		}
	}
	rows, err := res.Query()
	if err != nil {
		return zitadelevent.Page{}, err
	}
	defer rows.Close()
	page := zitadelevent.Page{Next: q.After}
	var (
		last = after
		now  = r.now()
		n    int
		b    pageBuilder
		// lastPos, lastType and lastID are the last row's, copied: raw
		// values live until the next row only.
		lastPos, lastType, lastID []byte
		// full is a page ended at maxPageBytes.
		full bool
	)
	var (
		// readTo is the read's end (colReadTo), copied; windowed whether
		// it is a window's end short of now().
		readTo   []byte
		windowed bool
	)
	fds := rows.FieldDescriptions()
	for rows.Next() {
		raw := rows.RawValues()
		if len(raw) != columns {
			return zitadelevent.Page{}, fmt.Errorf("event read: %d columns", len(raw))
		}
		if raw[colReadTo] != nil {
			readTo, windowed = append(readTo[:0], raw[colReadTo]...), string(raw[colWindowed]) == "true"
		}
		if raw[colPosition] == nil { // a window without events
			continue
		}
		n++
		pos := raw[colPosition]
		order, err := decodeInt(r.relation, fds[colInTxOrder], raw[colInTxOrder])
		if err != nil {
			return zitadelevent.Page{}, err
		}
		if !validPosition(pos) || order < math.MinInt32 || order > math.MaxInt32 {
			return zitadelevent.Page{}, fmt.Errorf("event read: position %.40q, %d is not ZITADEL's", pos, order)
		}
		seq, err := decodeInt(r.relation, fds[colSequence], raw[colSequence])
		if err != nil {
			return zitadelevent.Page{}, err
		}
		if seq < 0 {
			return zitadelevent.Page{}, fmt.Errorf("event read: sequence %d is not ZITADEL's", seq)
		}
		lastPos, last.inTxOrder, last.sequence, last.set = append(lastPos[:0], pos...), order, seq, true
		lastType, lastID = append(lastType[:0], raw[colAggregateType]...), append(lastID[:0], raw[colAggregateID]...)
		created, err := timeValue(fds[colCreatedAt], raw[colCreatedAt])
		if err != nil {
			return zitadelevent.Page{}, err
		}
		if !zitadelevent.Plausible(created, now) {
			page.Refused++
			continue
		}
		if len(raw[colAggregateID])+len(raw[colCreator])+len(raw[colPayload]) > maxEventBytes {
			page.Refused++
			continue
		}
		b.add(raw[colAggregateType], raw[colEventType], raw[colOwner], pos, raw[colAggregateID], raw[colCreator], raw[colPayload],
			uint64(seq), created)
		if b.size >= r.pageBytes {
			full = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return zitadelevent.Page{}, err
	}
	if _, err := res.Exec(); err != nil { // COMMIT
		return zitadelevent.Page{}, err
	}
	page.Events = b.events(q.InstanceID)
	if last.set && lastPos != nil {
		last.position, last.aggregateType, last.aggregateID = string(lastPos), string(lastType), string(lastID)
		if len(lastType)+len(lastID) > maxEventBytes {
			// A damaged identity is not kept: the cursor steps past its
			// position and in_tx_order instead.
			last = cursor{position: last.position, inTxOrder: last.inTxOrder + 1, sequence: math.MinInt64, set: true}
		}
	}
	page.More = n == q.Limit || full || windowed
	if n < q.Limit && !full && validPosition(readTo) {
		// Every event up to the read's end has been returned: the next
		// read starts there, and its window with it.
		last = cursor{position: string(readTo), inTxOrder: math.MaxInt32 + 1, sequence: math.MinInt64, set: true}
	}
	if last.set {
		page.Next = last.encode()
	}
	return page, nil
}

// createdAtMargin is how far a read bounded by created_at reaches back
// before the cursor's position (zitadelevent.CreationMargin): the statement
// of a push may have begun that long before its insert, for instance waiting
// for its instance's shared advisory lock behind readers' exclusive
// requests. It is what a read pays besides its page: at 5,000 events a
// second, 50,000 rows of the instance read and dropped.
const createdAtMargin = zitadelevent.CreationMargin

// clockStepSlack reaches past a window's end for an event whose creation
// came after its position: the server's clock stepped back during the
// push (time synchronisation steps, where it steps at all, by fractions of
// a second).
const clockStepSlack = time.Second

// pageQuery is the SQL of one page and its arguments.
//
// With both aggregate and event types named, each pair of them is read on
// its own through es_projection (instance, aggregate type, event type,
// position), in position order and at most a page of it, and the pairs are
// merged in order (Merge Append), which pulls from each only what the page
// takes: a read costs the rows it returns, however many events lie after
// the cursor.
//
// Otherwise no index of ZITADEL's leads to an instance's events in position
// order, and a scan of the instance from the cursor would cost every event
// after it. The read goes through es_active_instances (created_at DESC,
// instance_id) instead, in a window: it ends at the creation of the
// page's Limit-th event created after the cursor, and returns the events
// positioned up to that end (created_at <= position, so each of them lies
// in the window) from the cursor's position less createdAtMargin. A read
// costs a page and the margin's events, and a caught-up read the margin's.
func (r *EventReader) pageQuery(q zitadelevent.Query, after cursor) (string, []any, error) {
	args := []any{q.InstanceID, after.position, after.inTxOrder, after.aggregateType, after.aggregateID, after.sequence}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var payload strings.Builder
	if len(q.PayloadFields) == 0 {
		payload.WriteString("NULL::text")
	} else {
		payload.WriteString("CASE e.event_type")
		// In one order, so that one query is one text, which pgx prepares once.
		for _, typ := range slices.Sorted(maps.Keys(q.PayloadFields)) {
			fields := q.PayloadFields[typ]
			if len(fields) == 0 {
				continue
			}
			if len(fields) > maxPayloadFields {
				return "", nil, fmt.Errorf("event read: %d payload fields of %s; at most %d", len(fields), typ, maxPayloadFields)
			}
			fmt.Fprintf(&payload, " WHEN %s::text THEN jsonb_strip_nulls(jsonb_build_object(", arg(typ))
			for i, f := range fields {
				if i > 0 {
					payload.WriteString(", ")
				}
				p := arg(f)
				fmt.Fprintf(&payload, "%s::text, e.payload->%s::text", p, p)
			}
			payload.WriteString("))::text")
		}
		payload.WriteString(" END")
	}
	limit := arg(q.Limit)
	// The position's own range keeps to the index; the row comparison
	// decides among the events of the cursor's position.
	const afterCursor = `"position" >= $2::numeric
  AND ("position", in_tx_order, aggregate_type, aggregate_id, "sequence") > ($2::numeric, $3::int8, $4::text, $5::text, $6::int8)
  AND "position" <= EXTRACT(EPOCH FROM now())`
	// The order is by the column e."position", a number, not by the
	// output column of the same name, its text.
	columns := `SELECT e.aggregate_type, e.aggregate_id, e."sequence", e.event_type, e.created_at, e."owner", e.creator,
  ` + payload.String() + `, e."position"::text AS position_text, e.in_tx_order`
	order := `
ORDER BY e."position", e.in_tx_order, e.aggregate_type, e.aggregate_id, e."sequence"
LIMIT ` + limit
	if pairs := len(q.AggregateTypes) * len(q.EventTypes); pairs > 0 && pairs <= maxMergedPairs {
		// One ordered read per pair, merged (Merge Append): PostgreSQL
		// pulls from each read only the rows the page takes.
		aggregateTypes, eventTypes := make([]string, len(q.AggregateTypes)), make([]string, len(q.EventTypes))
		for i, t := range q.AggregateTypes {
			aggregateTypes[i] = arg(t) + "::text"
		}
		for i, t := range q.EventTypes {
			eventTypes[i] = arg(t) + "::text"
		}
		const read = `  (SELECT aggregate_type, aggregate_id, "sequence", event_type, created_at, "owner", creator, payload, "position", in_tx_order
  FROM %s
  WHERE instance_id = $1 AND aggregate_type = %s AND event_type = %s
    AND ` + afterCursor + `
  ORDER BY "position", in_tx_order, aggregate_type, aggregate_id, "sequence"
  LIMIT %s)`
		var reads strings.Builder
		reads.Grow(pairs * (len(read) + len(r.table) + 32))
		for _, at := range aggregateTypes {
			for _, et := range eventTypes {
				if reads.Len() > 0 {
					reads.WriteString("\n  UNION ALL\n")
				}
				fmt.Fprintf(&reads, read, r.table, at, et, limit)
			}
		}
		return columns + `, NULL::text, NULL::text
FROM (
` + reads.String() + `
) e` + order, args, nil
	}
	var types strings.Builder
	if len(q.AggregateTypes) > 0 {
		fmt.Fprintf(&types, ` AND aggregate_type = ANY(%s::text[])`, arg(q.AggregateTypes))
	}
	if len(q.EventTypes) > 0 {
		fmt.Fprintf(&types, ` AND event_type = ANY(%s::text[])`, arg(q.EventTypes))
	}
	// $2, the cursor's position, is typed by its first use: numeric, as
	// everywhere, since a float8 would round it to 15 digits.
	margin := strconv.FormatFloat(createdAtMargin.Seconds(), 'f', -1, 64)
	clockSlack := strconv.FormatFloat(clockStepSlack.Seconds(), 'f', -1, 64)
	return `WITH w AS MATERIALIZED (
  SELECT COALESCE((
    SELECT created_at FROM ` + r.table + `
    WHERE instance_id = $1` + types.String() + `
      AND created_at >= to_timestamp($2::numeric::float8) AND EXTRACT(EPOCH FROM created_at) > $2::numeric
    ORDER BY created_at OFFSET ` + limit + ` - 1 LIMIT 1), 'infinity') AS hi
)
SELECT x.*, GREATEST(LEAST(EXTRACT(EPOCH FROM w.hi), EXTRACT(EPOCH FROM now())), $2::numeric)::text,
  (w.hi < now())::text
FROM w LEFT JOIN LATERAL (
` + columns + `
  FROM ` + r.table + ` e
  WHERE instance_id = $1` + types.String() + `
    AND created_at >= to_timestamp($2::numeric::float8 - ` + margin + `) AND created_at <= w.hi + interval '` + clockSlack + ` seconds'
    AND ` + afterCursor + ` AND "position" <= EXTRACT(EPOCH FROM w.hi)` + order + `
) x ON true
ORDER BY x.position_text::numeric, x.in_tx_order, x.aggregate_type, x.aggregate_id, x."sequence"`, args, nil
}

// cursor is the database reader's place in its order: the last event's
// (position, in_tx_order, aggregate_type, aggregate_id, sequence). The
// position stays the decimal text PostgreSQL wrote, so no conversion can
// round or overflow it. An in_tx_order beyond int4's range, with an empty
// identity and the least sequence, stands before or after every event of
// the position.
type cursor struct {
	position      string
	inTxOrder     int64
	aggregateType string
	aggregateID   string
	sequence      int64
	set           bool
}

// cursorFormat starts every database cursor.
const cursorFormat = "zitadel.db.events.v1"

func (c cursor) encode() zitadelevent.Cursor {
	buf := storedform.AppendBytes([]byte(cursorFormat), c.position)
	buf = binary.AppendVarint(buf, c.inTxOrder)
	buf = storedform.AppendBytes(buf, c.aggregateType)
	buf = storedform.AppendBytes(buf, c.aggregateID)
	return binary.AppendVarint(buf, c.sequence)
}

// decodeCursor reads a cursor; without one the read starts at since (all
// events of the same position included).
func decodeCursor(c zitadelevent.Cursor, since time.Time) (cursor, error) {
	if c == nil {
		pos := "0"
		if !since.IsZero() && since.Unix() > 0 {
			pos = strconv.FormatInt(since.Unix(), 10)
		}
		return cursor{position: pos, inTxOrder: math.MinInt32 - 1, sequence: math.MinInt64}, nil
	}
	if !strings.HasPrefix(string(c), cursorFormat) {
		return cursor{}, fmt.Errorf("%w: not one of the database source", zitadelevent.ErrCursor)
	}
	d := storedform.NewDecoder(c[len(cursorFormat):], "event cursor")
	out := cursor{position: string(d.Bytes()), set: true}
	out.inTxOrder = d.Varint()
	out.aggregateType = d.String()
	out.aggregateID = d.String()
	out.sequence = d.Varint()
	if err := d.Finish(); err != nil {
		return cursor{}, fmt.Errorf("%w: %w", zitadelevent.ErrCursor, err)
	}
	if !validPosition(out.position) || out.inTxOrder < math.MinInt32 || out.inTxOrder > math.MaxInt32+1 {
		return cursor{}, fmt.Errorf("%w: not a position of ZITADEL's", zitadelevent.ErrCursor)
	}
	return out, nil
}

// validPosition holds a position to the decimals ZITADEL writes
// (EXTRACT(EPOCH FROM clock_timestamp())): digits with at most one point.
func validPosition[T string | []byte](p T) bool {
	if len(p) == 0 || len(p) > 64 {
		return false
	}
	point := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !point && i > 0:
			point = true
		default:
			return false
		}
	}
	return true
}

// postgresEpoch is where PostgreSQL's binary timestamps count from, in Unix seconds.
const postgresEpoch = 946684800

// timeValue decodes a timestamptz column in either wire format. Infinity and
// dates beyond Go's reach come back as dates Plausible refuses.
func timeValue(fd pgconn.FieldDescription, raw []byte) (time.Time, error) {
	if fd.Format == pgx.BinaryFormatCode {
		if len(raw) != 8 {
			return time.Time{}, fmt.Errorf("event read: a timestamp of %d bytes", len(raw))
		}
		us := int64(binary.BigEndian.Uint64(raw))
		return time.Unix(postgresEpoch+us/1e6, us%1e6*1e3).UTC(), nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999-07", string(raw))
	if err != nil {
		return time.Time{}, nil // infinity or a year past 9999: refused as implausible
	}
	return t, nil
}
