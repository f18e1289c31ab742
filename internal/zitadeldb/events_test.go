package zitadeldb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

func newEventReader(t testing.TB, d *zitadeldbtest.DB, conns int32) (*EventReader, *pgxpool.Pool) {
	t.Helper()
	pc, err := pgxpool.ParseConfig(d.DSN)
	require.NoError(t, err)
	pc.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	r, err := NewEventReader(pool, "eventstore.events2", 30*time.Second)
	require.NoError(t, err)
	return r, pool
}

func identity(e zitadelevent.Event) string {
	return fmt.Sprintf("%s/%s/%s/%d", e.InstanceID, e.AggregateType, e.AggregateID, e.Sequence)
}

func login(instance, id, org, client string) zitadeldbtest.Event {
	return zitadeldbtest.Event{
		InstanceID: instance, AggregateType: "oidc_session", AggregateID: id, Type: "oidc_session.added",
		Owner: org, Payload: fmt.Sprintf(`{"userID":"u-%s","clientID":%q,"sessionID":"s","userAgent":{"ip":"192.0.2.1"},"authMethods":[4]}`, id, client),
	}
}

func passwordCheck(instance, user, org string) zitadeldbtest.Event {
	return zitadeldbtest.Event{
		InstanceID: instance, AggregateType: "user", AggregateID: user, Type: "user.human.password.check.succeeded",
		Owner: org, Creator: user, Payload: `{}`,
	}
}

var loginQuery = zitadelevent.Query{
	AggregateTypes: []string{"oidc_session", "user"},
	EventTypes:     []string{"oidc_session.added", "user.human.password.check.succeeded"},
	PayloadFields:  map[string][]string{"oidc_session.added": {"userID", "clientID", "authMethods", "missing"}},
}

func TestEventReaderPagesInPositionOrderWithNamedFieldsOnly(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	d.PushNow(t, login("i1", "a", "o1", "app1"), passwordCheck("i1", "u1", "o1"))
	d.PushNow(t, login("i2", "b", "o2", "app2")) // another instance
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "user", AggregateID: "u1", Type: "user.human.added",
		Owner: "o1", Payload: `{"encodedHash":"$2a$secret"}`,
	}) // not asked for
	d.PushNow(t, login("i1", "c", "o1", "app1"))

	q := loginQuery
	q.InstanceID, q.Limit = "i1", 2
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 2)
	assert.True(t, page.More)
	assert.Equal(t, "i1/oidc_session/a/1", identity(page.Events[0]))
	assert.Equal(t, "i1/user/u1/1", identity(page.Events[1]), "in_tx_order inside one push")
	assert.Equal(t, "o1", page.Events[0].Owner)
	assert.JSONEq(t, `{"userID":"u-a","clientID":"app1","authMethods":[4]}`, string(page.Events[0].Payload),
		"only the named fields, never the user agent")
	assert.Nil(t, page.Events[1].Payload, "no field named for the check")

	q.After = page.Next
	page, err = r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	assert.Equal(t, "i1/oidc_session/c/1", identity(page.Events[0]))
	assert.False(t, page.More)

	q.After = page.Next
	empty, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	assert.Empty(t, empty.Events)
	assert.Equal(t, page.Next, empty.Next, "nothing new keeps the cursor")
}

// TestEventReaderWaitsForAPushCommittingLate holds one push open while a
// later one commits: a reader that went by "the last position seen" would
// read the later event first and lose the earlier one for good.
func TestEventReaderWaitsForAPushCommittingLate(t *testing.T) {
	forEachRead(t, testWaitsForAPushCommittingLate)
}

// everyEvent reads every event type: the window through es_active_instances.
var everyEvent = zitadelevent.Query{
	PayloadFields: loginQuery.PayloadFields,
}

// manyPairs names more pairs than a read merges (maxMergedPairs): the
// window of creation, narrowed by both lists.
var manyPairs = func() zitadelevent.Query {
	q := loginQuery
	q.AggregateTypes, q.EventTypes = slices.Clone(q.AggregateTypes), slices.Clone(q.EventTypes)
	for i := 0; len(q.AggregateTypes)*len(q.EventTypes) <= maxMergedPairs; i++ {
		q.AggregateTypes = append(q.AggregateTypes, fmt.Sprint("unknown_aggregate_", i))
		q.EventTypes = append(q.EventTypes, fmt.Sprint("unknown.event.", i))
	}
	return q
}()

// forEachRead runs test with each kind of read: named pairs through
// es_projection, and every event type, or more pairs than are merged,
// through a window of creation.
func forEachRead(t *testing.T, test func(*testing.T, zitadelevent.Query)) {
	t.Run("pairs", func(t *testing.T) { test(t, loginQuery) })
	t.Run("every", func(t *testing.T) { test(t, everyEvent) })
	t.Run("many pairs", func(t *testing.T) { test(t, manyPairs) })
}

func testWaitsForAPushCommittingLate(t *testing.T, q zitadelevent.Query) {
	d := zitadeldbtest.New(t)
	r, pool := newEventReader(t, d, 4)
	ctx := t.Context()

	early, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer early.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	require.NoError(t, zitadeldbtest.Push(ctx, early, login("i1", "early", "o1", "app")))
	d.PushNow(t, login("i1", "late", "o1", "app")) // a larger position, committed first

	q.InstanceID, q.Limit = "i1", 100
	read := make(chan zitadelevent.Page, 1)
	go func() {
		page, err := r.Read(ctx, q)
		assert.NoError(t, err)
		read <- page
	}()
	select {
	case page := <-read:
		t.Fatalf("the read did not wait for the push in flight: %d events", len(page.Events))
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, early.Commit(ctx))
	page := <-read
	var got []string
	for _, e := range page.Events {
		got = append(got, e.AggregateID)
	}
	assert.Equal(t, []string{"early", "late"}, got)
}

// TestEventReaderReadsEveryEventOnceWhileWritten runs concurrent pushes that
// commit out of order (each holds its transaction a random while, some hold
// it across several reads) while a reader follows with small pages: every
// event is read exactly once.
func TestEventReaderReadsEveryEventOnceWhileWritten(t *testing.T) {
	forEachRead(t, testReadsEveryEventOnceWhileWritten)
}

func testReadsEveryEventOnceWhileWritten(t *testing.T, q zitadelevent.Query) {
	d := zitadeldbtest.New(t)
	r, pool := newEventReader(t, d, 12)
	ctx := t.Context()
	const writers, pushes = 8, 60

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for p := range pushes {
				tx, err := pool.Begin(ctx)
				if !assert.NoError(t, err) {
					return
				}
				id := fmt.Sprintf("w%d-p%d", w, p)
				err = zitadeldbtest.Push(ctx, tx, login("i1", id, "o1", "app"), passwordCheck("i1", "u-"+id, "o1"),
					login("i2", id, "o2", "app"))
				if assert.NoError(t, err) {
					time.Sleep(time.Duration(rnd.IntN(20)) * time.Millisecond)
					assert.NoError(t, tx.Commit(ctx))
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	q.InstanceID, q.Limit = "i1", 7
	finished := false
	for reads := 0; ; reads++ {
		require.Less(t, reads, 100000)
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := r.Read(ctx, q)
		require.NoError(t, err)
		for _, e := range page.Events {
			seen[identity(e)]++
		}
		q.After = page.Next
		if finished && !page.More {
			break
		}
	}
	assert.Len(t, seen, writers*pushes*2, "events read")
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
}

// TestEventReaderReadsPushesSharingAPositionWhereAPageEnds pages through
// two pushes of one microsecond: they share a position and each counts
// in_tx_order from 0, so a cursor of (position, in_tx_order) at the end of
// one push's first event would step over the other's.
func TestEventReaderReadsPushesSharingAPositionWhereAPageEnds(t *testing.T) {
	forEachRead(t, testReadsPushesSharingAPositionWhereAPageEnds)
}

func testReadsPushesSharingAPositionWhereAPageEnds(t *testing.T, q zitadelevent.Query) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	at := time.Now().Add(-time.Second).Truncate(time.Microsecond)
	position := fmt.Sprintf("%d.%06d", at.Unix(), at.Nanosecond()/1000)
	push := func(ids ...string) {
		var events []zitadeldbtest.Event
		for _, id := range ids {
			e := login("i1", id, "o1", "app")
			e.CreatedAt = at
			events = append(events, e)
		}
		d.PushAt(t, position, events...)
	}
	push("a0", "a1")
	push("b0", "b1")
	d.PushNow(t, login("i1", "c", "o1", "app"))

	for limit := 1; limit <= 5; limit++ {
		q := q
		q.InstanceID, q.Limit = "i1", limit
		var got []string
		for reads := 0; reads < 10; reads++ {
			page, err := r.Read(t.Context(), q)
			require.NoError(t, err)
			for _, e := range page.Events {
				got = append(got, e.AggregateID)
			}
			q.After = page.Next
			if !page.More {
				break
			}
		}
		assert.ElementsMatch(t, []string{"a0", "a1", "b0", "b1", "c"}, got, "pages of %d", limit)
		assert.Equal(t, "c", got[len(got)-1], "pages of %d: the later position last", limit)
	}
}

// A damaged identity past maxEventBytes is not carried in the cursor, which
// an operator's storage keeps: the read steps past its position and
// in_tx_order instead.
func TestEventReaderKeepsNoOversizedIdentityInItsCursor(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	d.PushNow(t, login("i1", strings.Repeat("x", maxEventBytes+1), "o1", "app"))
	d.PushNow(t, login("i1", "b", "o1", "app"))
	q := loginQuery
	q.InstanceID, q.Limit = "i1", 1
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, 1, page.Refused)
	assert.Less(t, len(page.Next), 256, "cursor bytes")
	q.After = page.Next
	page, err = r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	assert.Equal(t, "b", page.Events[0].AggregateID)
}

func TestEventReaderRefusesImpossibleDatesAndMovesPastThem(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	d.PushNow(t, login("i1", "a", "o1", "app"))
	d.PushNow(t, login("i1", "future", "o1", "app"))
	d.Exec(t, `UPDATE eventstore.events2 SET created_at = 'infinity' WHERE aggregate_id = 'future'`)
	d.PushNow(t, login("i1", "b", "o1", "app"))

	q := loginQuery
	q.InstanceID, q.Limit = "i1", 10
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 2)
	assert.Equal(t, 1, page.Refused)
	assert.Equal(t, "b", page.Events[1].AggregateID)
}

func TestEventReaderRefusesDamagedCursors(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 1)
	q := loginQuery
	q.InstanceID, q.Limit = "i1", 10
	for _, c := range []zitadelevent.Cursor{
		zitadelevent.Cursor("zitadel.api.events"),
		zitadelevent.Cursor(cursorFormat + "\x05" + "1.5'; --"),
		cursor{position: "1e9", inTxOrder: 0}.encode(),
		append(cursor{position: "1.5", inTxOrder: 0}.encode(), 0),
	} {
		q.After = c
		_, err := r.Read(t.Context(), q)
		assert.Error(t, err, "%q", c)
	}
}

// Positions are numbers: 9.5 comes before 10.25, though "10.25" < "9.5" as text.
func TestEventReaderOrdersPositionsAsNumbers(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 1)
	for i, pos := range []string{"10.25", "9.5", "100", "9.75"} {
		d.Exec(t, `INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision,
			created_at, payload, creator, "owner", "position", in_tx_order)
			VALUES ('i1', 'user', $1, 'user.locked', 1, 1, now(), NULL, '', 'o1', $2::numeric, 0)`, fmt.Sprint("u", i), pos)
	}
	q := zitadelevent.Query{InstanceID: "i1", Since: time.Unix(1, 0), Limit: 2}
	var got []string
	for range 3 {
		page, err := r.Read(t.Context(), q)
		require.NoError(t, err)
		for _, e := range page.Events {
			got = append(got, e.AggregateID+"@"+e.Position)
		}
		q.After = page.Next
	}
	assert.Equal(t, []string{"u1@9.5", "u3@9.75", "u0@10.25", "u2@100"}, got, "in order, each with its own position")
}

// A hostile table cannot grow a page beyond its bounds: an oversized event
// is refused, and a page ends early once it holds maxPageBytes.
func TestEventReaderBoundsWhatAPageHolds(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 1)
	r.pageBytes = 1 << 20
	big := strings.Repeat("x", maxEventBytes)
	d.PushNow(t, login("i1", "a", "o1", "app"))
	d.PushNow(t, login("i1", "b", "o1", big))
	var many []zitadeldbtest.Event
	for i := range 70 {
		many = append(many, login("i1", fmt.Sprint("c", i), "o1", strings.Repeat("y", maxEventBytes/2)))
	}
	for i := range 70 {
		d.PushNow(t, many[i:i+1]...)
	}
	q := loginQuery
	q.InstanceID, q.Limit = "i1", 10000
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, 1, page.Refused, "the event of more than maxEventBytes")
	assert.Equal(t, "a", page.Events[0].AggregateID)
	assert.True(t, page.More, "the page ended at maxPageBytes")
	assert.Less(t, len(page.Events), 70)
	assert.Greater(t, len(page.Events), 2)
}

// TestEventReaderReachesBackForAPushThatBeganBeforeTheCursor reads every
// event type, bounded by creation: a push whose statement began before the
// reader's cursor (waiting for its lock, say) commits a position after it
// with a creation before it, and is read all the same.
func TestEventReaderReachesBackForAPushThatBeganBeforeTheCursor(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	d.PushNow(t, login("i1", "a", "o1", "app"))
	q := everyEvent
	q.InstanceID, q.Limit = "i1", 10
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	require.False(t, page.More)

	slow := login("i1", "slow", "o1", "app")
	slow.CreatedAt = time.Now().Add(-createdAtMargin / 2)
	d.PushNow(t, slow)
	q.After = page.Next
	page, err = r.Read(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, page.Events, 1, "the push that began before the cursor")
	assert.Equal(t, "slow", page.Events[0].AggregateID)
}

// TestEventReaderWalksABacklogOfEveryEventInWindows reads a month of
// events, days apart, in pages of four: each once, in order, and the
// windows step over the empty days instead of walking through them.
func TestEventReaderWalksABacklogOfEveryEventInWindows(t *testing.T) {
	d := zitadeldbtest.New(t)
	r, _ := newEventReader(t, d, 2)
	const events = 30
	d.Exec(t, `INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision,
		created_at, payload, creator, "owner", "position", in_tx_order)
	SELECT i.id, 'user', 'u' || n, 'user.human.added', 1, 1, at, '{}', 'u0', 'o1', EXTRACT(EPOCH FROM at), 0
	FROM generate_series(1, $1) n, unnest(ARRAY['i1', 'i2']) i(id),
	LATERAL (SELECT now() - interval '40 days' + n * interval '1 day' + (n % 3) * interval '1 hour' AS at) t`, events)

	q := everyEvent
	q.InstanceID, q.Limit = "i1", 4
	var got []string
	reads := 0
	for ; reads < 3*events; reads++ {
		page, err := r.Read(t.Context(), q)
		require.NoError(t, err)
		for _, e := range page.Events {
			assert.Equal(t, "i1", e.InstanceID)
			got = append(got, e.AggregateID)
		}
		q.After = page.Next
		if !page.More {
			break
		}
	}
	want := make([]string, events)
	for n := range want {
		want[n] = fmt.Sprintf("u%d", n+1)
	}
	assert.Equal(t, want, got)
	assert.LessOrEqual(t, reads, events/4+2, "reads")
}

// TestREADMETellsHowFarAReadOfEveryEventReachesBack holds the receiver's
// reference on the audit trail's cost to the margin the reader uses.
func TestREADMETellsHowFarAReadOfEveryEventReachesBack(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	text := strings.Join(strings.Fields(string(readme)), " ")
	secs := int(createdAtMargin.Seconds())
	assert.Contains(t, text, fmt.Sprintf("the next page's worth of events and the %d seconds of the instance's events before the read position", secs))
	assert.Contains(t, text, fmt.Sprintf("A push whose statement ran longer than %d seconds before its insert", secs))
}
