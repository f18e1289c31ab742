package zitadeldb

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/cputime"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// dayOfLogins writes a day of 50,000 password logins into instance i1 (the
// login with ZITADEL's payload, user agent included, and the user's
// password.check.succeeded: 100,000 events), as many session events the
// activity does not read, and another instance's day, in pushes of 1,000.
func dayOfLogins(b *testing.B, d *zitadeldbtest.DB) {
	b.Helper()
	const logins = 50_000
	start := time.Now().Add(-24 * time.Hour)
	var batch []zitadeldbtest.Event
	flush := func() {
		d.PushNow(b, batch...)
		batch = batch[:0]
	}
	for i := range logins {
		s, at := strconv.Itoa(i), start.Add(time.Duration(i)*1728*time.Millisecond)
		org := fmt.Sprintf("2%017d", i%100)
		user := fmt.Sprintf("3%017d", i)
		batch = append(batch,
			zitadeldbtest.Event{InstanceID: "i1", AggregateType: "user", AggregateID: user, Type: "user.human.password.check.succeeded",
				Owner: org, Creator: user, Payload: `{}`, CreatedAt: at},
			zitadeldbtest.Event{InstanceID: "i1", AggregateType: "oidc_session", AggregateID: "V2_" + s, Type: "oidc_session.added",
				Owner: org, CreatedAt: at, Payload: `{"userID":"` + user + `","userResourceOwner":"` + org + `","sessionID":"4` + s +
					`","clientID":"web-client","audience":["web-client"],"scope":["openid","profile"],"authMethods":[4],` +
					`"authTime":"` + at.Format(time.RFC3339Nano) + `","userAgent":{"fingerprint_id":"fp-1","ip":"203.0.113.7",` +
					`"description":"Mozilla/5.0 (X11; Linux x86_64)","header":{"accept-language":["de-CH"]}}}`},
			zitadeldbtest.Event{InstanceID: "i1", AggregateType: "session", AggregateID: "4" + s, Type: "session.user.checked",
				Owner: "i1", CreatedAt: at, Payload: `{"userID":"` + user + `","userResourceOwner":"` + org + `"}`},
			zitadeldbtest.Event{InstanceID: "i2", AggregateType: "oidc_session", AggregateID: "V2_" + s, Type: "oidc_session.added",
				Owner: org, CreatedAt: at, Payload: `{"userID":"` + user + `","clientID":"other","sessionID":"x","authMethods":[4]}`})
		if len(batch) >= 1000 {
			flush()
		}
	}
	flush()
	d.Exec(b, "ANALYZE eventstore.events2")
}

// BenchmarkDatabaseActivity reads a day of 50,000 logins from the database:
// "day" is a first read (a new tracker each time), which must count every
// login in one query; "bare-read" is the floor, the same query read with
// pgx without decoding a value; "nothing-new" is a scrape of an instance
// that has caught up. cpu-ns/event is the process's CPU time per event
// (PostgreSQL runs in processes of its own, so this is the client's).
//
//	scripts/with-postgres.sh go test -run '^$' -bench DatabaseActivity -benchmem -benchtime 5x -count 6 ./internal/zitadeldb
func BenchmarkDatabaseActivity(b *testing.B) {
	d := zitadeldbtest.New(b)
	dayOfLogins(b, d)
	r, pool := newEventReader(b, d, 2)
	act := activity.NewDefaultConfig()
	act.Enabled, act.Lookback = true, 48*time.Hour
	const events = 100_000

	perEvent := func(b *testing.B, cpuStart time.Duration) {
		n := float64(b.N * events)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
		if cpu := cputime.ProcessCPU(); cpu > 0 {
			b.ReportMetric(float64((cpu-cpuStart).Nanoseconds())/n, "cpu-ns/event")
		}
	}

	b.Run("day", func(b *testing.B) {
		b.ReportAllocs()
		cpuStart := cputime.ProcessCPU()
		queries := 0
		for b.Loop() {
			t := activity.NewTracker(act, 0, zap.NewNop())
			cr := &countingReader{Reader: r}
			rep, err := t.Scrape(context.Background(), cr, "i1", time.Now())
			if err != nil || activitytest.Logins(rep) != 50_000 || len(rep.Active) == 0 || cr.rows != events {
				b.Fatalf("%d logins, %d rows, caught up %v: %v", activitytest.Logins(rep), cr.rows, len(rep.Active) > 0, err)
			}
			queries += cr.reads
		}
		b.ReportMetric(float64(queries)/float64(b.N), "queries/scrape")
		perEvent(b, cpuStart)
	})

	b.Run("bare-read", func(b *testing.B) {
		q := zitadelevent.Query{InstanceID: "i1", AggregateTypes: activity.AggregateTypes(), EventTypes: activity.EventTypes(),
			PayloadFields: activity.PayloadFields(), Limit: act.MaxEventsPerScrape}
		after, err := decodeCursor(nil, time.Now().Add(-48*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		sql, args, err := r.pageQuery(q, after)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpuStart := cputime.ProcessCPU()
		for b.Loop() {
			rows, err := pool.Query(context.Background(), sql, args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				_ = rows.RawValues()
				n++
			}
			rows.Close()
			if rows.Err() != nil || n != events {
				b.Fatalf("%d rows: %v", n, rows.Err())
			}
		}
		perEvent(b, cpuStart)
	})

	b.Run("nothing-new", func(b *testing.B) {
		t := activity.NewTracker(act, 0, zap.NewNop())
		if _, err := t.Scrape(context.Background(), r, "i1", time.Now()); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cr := &countingReader{Reader: r}
		for b.Loop() {
			if _, err := t.Scrape(context.Background(), cr, "i1", time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		if cr.rows != 0 {
			b.Fatalf("%d rows read again", cr.rows)
		}
		b.ReportMetric(float64(cr.reads)/float64(b.N), "queries/scrape")
	})
}
