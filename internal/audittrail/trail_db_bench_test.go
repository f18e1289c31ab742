package audittrail

import (
	"context"
	"flag"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

var benchEvents = flag.Int("audit.events", 100_000, "events in the database of BenchmarkTrailFromDatabase")

const benchInstance = "312000000000000001"

// fillEvents writes n events of one instance as a busy ZITADEL writes
// them: logins through the Session API and OIDC (session, check and
// oidc_session events, with user agents and IPs in the payloads), failed
// checks and lockouts, in pushes of five events at increasing positions.
func fillEvents(tb testing.TB, d *zitadeldbtest.DB, n int) {
	tb.Helper()
	d.Exec(tb, `INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision,
		created_at, payload, creator, "owner", "position", in_tx_order)
	SELECT $1, t.agg, t.agg || '-' || (i / 5)::text, t.typ, i % 5 + 1, 1,
		now() - interval '1 hour' + (i / 5) * interval '1 ms',
		CASE t.typ
			WHEN 'oidc_session.added' THEN jsonb_build_object('userID', 'u' || (i / 5 % 997), 'clientID', 'app-web',
				'sessionID', 's' || (i / 5), 'authMethods', jsonb_build_array(4), 'scope', jsonb_build_array('openid'),
				'userAgent', jsonb_build_object('ip', '203.0.113.7', 'description', 'Mozilla/5.0 (X11; Linux x86_64)'))
			WHEN 'session.user.checked' THEN jsonb_build_object('userID', 'u' || (i / 5 % 997), 'checkedAt', now()::text)
			ELSE '{}'::jsonb
		END,
		'u' || (i / 5 % 997), '312000000000000011',
		extract(epoch FROM now() - interval '1 hour') + (i / 5) * 0.001, i % 5
	FROM generate_series(0, $2 - 1) i,
	LATERAL (SELECT (ARRAY['session', 'session', 'user', 'user', 'oidc_session'])[i % 5 + 1] AS agg,
		(ARRAY['session.added', 'session.user.checked', 'user.human.password.check.succeeded',
			CASE WHEN i % 50 = 3 THEN 'user.locked' ELSE 'user.human.password.check.failed' END, 'oidc_session.added'])[i % 5 + 1] AS typ) t`,
		benchInstance, n)
	d.Exec(tb, "VACUUM ANALYZE eventstore.events2")
}

// dbSource is the database source's reader with one instance.
type dbSource struct{ *zitadeldb.EventReader }

func (dbSource) Instances(context.Context) ([]string, error) { return []string{benchInstance}, nil }

// BenchmarkTrailFromDatabase delivers every event of the database into a
// consumer that takes everything, page by page, from a new trail (no read
// position) per iteration. The reader alone, paging through the same events
// without making records, is the floor; caught-up is one poll of a trail
// that has read every event.
func BenchmarkTrailFromDatabase(b *testing.B) {
	d := zitadeldbtest.New(b)
	fillEvents(b, d, *benchEvents)
	pc, err := pgxpool.ParseConfig(d.DSN)
	if err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(b.Context(), pc)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	reader, err := zitadeldb.NewEventReader(pool, "eventstore.events2", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		pageSize int
		narrowed bool
	}{
		{"every", 1000, false}, {"every", 10000, false}, {"narrowed", 1000, true}, {"narrowed", 10000, true},
	} {
		cfg := NewDefaultConfig()
		cfg.PageSize = bc.pageSize
		cfg.Lookback = 2 * time.Hour
		if bc.narrowed {
			// Plain names: the read filters by them through es_projection.
			cfg.AggregateTypes.Include = []string{"session", "user", "oidc_session"}
			cfg.EventTypes.Include = []string{
				"session.added", "session.user.checked", "user.human.password.check.succeeded",
				"user.human.password.check.failed", "user.locked", "oidc_session.added",
			}
		}
		name := fmt.Sprintf("%s/page=%d", bc.name, bc.pageSize)
		b.Run("caught-up/"+name, func(b *testing.B) {
			q := caughtUp(b, reader, &cfg)
			for b.Loop() {
				page, err := reader.Read(b.Context(), q)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Events) != 0 || page.More {
					b.Fatalf("a caught-up poll read %d events", len(page.Events))
				}
			}
		})
		b.Run("floor/"+name, func(b *testing.B) {
			benchDelivery(b, func() int { return readAll(b, reader, &cfg) })
		})
		b.Run("trail/"+name, func(b *testing.B) {
			benchDelivery(b, func() int { return delivered(b, &cfg, dbSource{reader}) })
		})
	}
}

// delivered is what a new trail delivers until it has caught up, into a
// consumer that counts.
func delivered(b *testing.B, cfg *Config, src Source) int {
	var n atomic.Int64
	if err := deliverAll(b, New(cfg, Settings{Source: src, Next: countingConsumer{&n}, Logger: zap.NewNop()})); err != nil {
		b.Fatal(err)
	}
	return int(n.Load())
}

func benchDelivery(b *testing.B, deliver func() int) {
	b.ReportAllocs()
	var peak uint64
	events := 0
	for b.Loop() {
		_, stop := zitadeldbtest.HeapPeak()
		n := deliver()
		peak = max(peak, stop())
		if n != *benchEvents {
			b.Fatalf("delivered %d of %d events", n, *benchEvents)
		}
		events += n
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// readAll pages through every event as the trail asks for them.
func readAll(b *testing.B, r zitadelevent.Reader, cfg *Config) int {
	q := New(cfg, Settings{}).query
	q.InstanceID = benchInstance
	q.Since = time.Now().Add(-cfg.Lookback)
	n := 0
	for {
		page, err := r.Read(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		n += len(page.Events)
		if !page.More {
			return n
		}
		q.After = page.Next
	}
}

// caughtUp is the trail's query after every event: what each poll_interval
// asks once the trail has caught up.
func caughtUp(b *testing.B, r zitadelevent.Reader, cfg *Config) zitadelevent.Query {
	q := New(cfg, Settings{}).query
	q.InstanceID = benchInstance
	q.Since = time.Now().Add(-cfg.Lookback)
	for {
		page, err := r.Read(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		q.After = page.Next
		if !page.More {
			return q
		}
	}
}
