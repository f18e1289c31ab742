package zitadeldb

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

func TestREADMEHoldsTheEventsView(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), EventsView())
	assert.Contains(t, string(readme), AuditEventsView())
	for _, g := range zitadeldbtest.ViewReaderGrants {
		assert.Contains(t, string(readme), fmt.Sprintf(g, "zitadel_reader")+";")
	}
	assert.Contains(t, string(readme), "GRANT SELECT ON "+AuditEventsViewName+" TO zitadel_reader;")
}

// TestActivityThroughTheEventsView counts through README's view with
// README's grants: the same activity as from the table, and a role that can
// read neither a password hash nor a login's user agent.
func TestActivityThroughTheEventsView(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, EventsView())
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.PushNow(t, signUp(), login("i1", "s1", "o1", "app"), passwordCheck("i1", "u1", "o1"))
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "milestone", AggregateID: "i1", Type: "milestone.reached",
		Owner: "i1", Payload: `{"type": "instance_created", "reachedDate": "2026-01-02T03:04:05Z", "primaryDomain": "login.example.com"}`,
	})
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ViewReaderGrants...)

	cfg := dbConfig(d)
	cfg.Username, cfg.Password = role.Name, configopaqueString(role.Password)
	cfg.EventsTable = EventsViewName
	act := activity.NewDefaultConfig()
	act.Enabled = true
	s := NewSource(cfg, act, nil, componenttest.NewNopTelemetrySettings(), ownMetrics(t, componenttest.NewNopTelemetrySettings())).(*source)
	require.NoError(t, s.Start(t.Context(), nil))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(t.Context())) })
	rep := scrapeActivity(t, s, "i1")
	assert.Equal(t, uint64(1), activitytest.Logins(rep))
	assert.Len(t, rep.Checks, 1)
	assert.Equal(t, []activity.Milestone{{Type: "instance_created", ReachedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}, rep.Milestones)

	_, all := readAsRole(t, d, role, EventsViewName)
	for _, secret := range []string{"encodedHash", "jane", "userAgent", "192.0.2.1", "login.example.com"} {
		assert.NotContains(t, all, secret)
	}
}

// TestAuditViewHoldsNoSecret: README's view for the audit trail has every
// event, and its role can read neither a password hash, an e-mail address,
// an IP address nor the configuration ZITADEL's migration steps record.
func TestAuditViewHoldsNoSecret(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, AuditEventsView())
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.PushNow(t, signUp(), login("i1", "s1", "o1", "app"))
	d.PushNow(t, zitadeldbtest.Event{
		AggregateType: "system", AggregateID: "SYSTEM", Type: "system.migration.done", Owner: "SYSTEM",
		Payload: `{"name": "03_default_instance", "instanceSetup": {"org": {"human": {"password": "Password1!"}}}}`,
	})
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.AuditViewReaderGrants...)

	n, all := readAsRole(t, d, role, AuditEventsViewName)
	assert.Equal(t, 3, n, "every event")
	for _, secret := range []string{"encodedHash", "jane", "userAgent", "192.0.2.1", "Password1!"} {
		assert.NotContains(t, all, secret)
	}
}

// signUp is what ZITADEL writes when a user signs up: the payload holds the
// user's name, e-mail address and password hash.
func signUp() zitadeldbtest.Event {
	return zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "user", AggregateID: "u1", Type: "user.human.added",
		Owner: "o1", Payload: `{"userName": "jane", "email": "jane@example.com", "encodedHash": "$2a$14$secret"}`,
	}
}

// readAsRole reads every row of view as role: how many, and their payloads
// as one text. The role must be refused on eventstore.events2 itself.
func readAsRole(t *testing.T, d *zitadeldbtest.DB, role zitadeldbtest.Role, view string) (rows int, payloads string) {
	t.Helper()
	d.Exec(t, fmt.Sprintf(`SET ROLE %q`, role.Name))
	defer d.Exec(t, "RESET ROLE")
	require.NoError(t, d.Conn.QueryRow(t.Context(),
		`SELECT count(*), COALESCE(string_agg(COALESCE(payload::text, ''), ' '), '') FROM `+view).Scan(&rows, &payloads))
	_, err := d.Conn.Exec(t.Context(), `SELECT 1 FROM eventstore.events2`)
	assert.ErrorContains(t, err, "permission denied")
	return rows, payloads
}

// TestEventReadUsesTheProjectionIndex reads ZITADEL's way, through
// es_projection, on the table and through the view.
func TestEventReadUsesTheProjectionIndex(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, EventsView())
	var events []zitadeldbtest.Event
	for i := range 5000 {
		events = append(events, login(fmt.Sprint("i", i%50), fmt.Sprint("s", i), "o1", "app"),
			zitadeldbtest.Event{
				InstanceID: fmt.Sprint("i", i%50), AggregateType: "user", AggregateID: fmt.Sprint("u", i),
				Type: "user.human.added", Owner: "o1", Payload: `{}`,
			})
	}
	d.PushNow(t, events...)
	d.Exec(t, "ANALYZE eventstore.events2")
	_, pool := newEventReader(t, d, 2)
	for _, rel := range []string{"eventstore.events2", EventsViewName} {
		r, err := NewEventReader(pool, rel, time.Minute)
		require.NoError(t, err)
		q := loginQuery
		q.InstanceID, q.Limit = "i7", 1000
		after, err := decodeCursor(nil, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		sql, args, err := r.pageQuery(q, after)
		require.NoError(t, err)
		rows, err := d.Conn.Query(t.Context(), "EXPLAIN "+sql, args...)
		require.NoError(t, err)
		var lines []string
		for rows.Next() {
			var l string
			require.NoError(t, rows.Scan(&l))
			lines = append(lines, l)
		}
		rows.Close()
		assert.Contains(t, strings.Join(lines, "\n"), "es_projection", rel)
	}
}

// TestNarrowedReadTakesOnlyThePage holds the merge of a narrowed read: with a
// backlog of 600 events in each of two (aggregate type, event type) pairs,
// PostgreSQL reads about a page of rows from es_projection, not a page from
// every pair.
func TestNarrowedReadTakesOnlyThePage(t *testing.T) {
	d := zitadeldbtest.New(t)
	start := time.Now().Add(-time.Hour)
	for i := range 600 {
		at := start.Add(time.Duration(i) * time.Second)
		d.PushAt(t, fmt.Sprintf("%d.%06d", at.Unix(), i), login("i1", fmt.Sprint("s", i), "o1", "app"), zitadeldbtest.Event{
			InstanceID: "i1", AggregateType: "user", AggregateID: fmt.Sprint("u", i),
			Type: "user.human.password.check.succeeded", Owner: "o1", Payload: `{}`, CreatedAt: at,
		})
	}
	d.Exec(t, "ANALYZE eventstore.events2")
	r, _ := newEventReader(t, d, 2)
	q := loginQuery
	q.InstanceID, q.Limit = "i1", 400
	after, err := decodeCursor(nil, start.Add(-time.Minute))
	require.NoError(t, err)
	sql, args, err := r.pageQuery(q, after)
	require.NoError(t, err)
	rows, err := d.Conn.Query(t.Context(), "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...)
	require.NoError(t, err)
	var plan string
	for rows.Next() {
		require.NoError(t, rows.Scan(&plan))
	}
	rows.Close()
	require.NoError(t, rows.Err())
	read := 0
	for _, m := range regexp.MustCompile(`"Index Name": "es_projection",[^{}]*?"Actual Rows": (\d+),\s*"Actual Loops": (\d+)`).FindAllStringSubmatch(plan, -1) {
		n, _ := strconv.Atoi(m[1])
		loops, _ := strconv.Atoi(m[2])
		read += n * loops
	}
	t.Logf("%d rows read through es_projection for a page of %d", read, q.Limit)
	assert.Positive(t, read, "no scan of es_projection in the plan:\n%s", plan)
	// Each pair's sort by the whole order reads ahead in groups of 32 rows;
	// a page from every pair would be 800.
	assert.LessOrEqual(t, read, q.Limit*5/4, "rows read through es_projection for a page of %d:\n%s", q.Limit, plan)
}
