package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

var (
	auditEvents = flag.Int("audit.events", 20_000, "events TestAuditTrailSurvivesKills writes; make audit-kills writes 1,000,000")
	auditKills  = flag.Int("audit.kills", 3, "kill -9 restarts of the collector in TestAuditTrailSurvivesKills")
)

const auditTrailInstance = "312000000000000001"

// auditEventTypes are the events the test's ZITADEL writes, per push: a user
// signs up (the payload holds the e-mail and the password hash), fails a
// password check and is locked out.
var auditEventTypes = []string{"user.human.added", "user.human.password.check.failed", "user.locked"}

var auditConfig = template.Must(template.New("audit").Parse(`extensions:
  file_storage:
    directory: {{.Dir}}
receivers:
  zitadel:
    source: database
    collection_interval: 1h
    database:
      endpoint: {{.DB.Endpoint}}
      username: {{.DB.Username}}
      password: {{.DB.Password}}
      database: {{.DB.Database}}
      tls:
        mode: disable
    audit_log:
      lookback: 1h
      storage: file_storage
      poll_interval: 1s
{{.Lists}}exporters:
  otlp_http:
    endpoint: http://{{.Sink}}
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 1s
    # No queue: the store has the records when the exporter returns, so
    # what the trail acknowledges is what the store holds.
    sending_queue:
      enabled: false
` + serviceTelemetryYAML + `  extensions: [file_storage]
  pipelines:
    logs:
      receivers: [zitadel]
      exporters: [otlp_http]
`))

// logStore is an OTLP/HTTP log store that keeps, per event identity, the
// log.record.uid it arrived with and how often it arrived.
type logStore struct {
	mu        sync.Mutex
	uids      map[string]string // identity -> uid
	owners    map[string]string // uid -> identity
	records   int
	conflicts int // an identity under two uids, or a uid of two identities
	personal  int // records carrying a payload field
}

func (s *logStore) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uids)
}

func (s *logStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A store that takes a while to answer: a kill lands while a page is
	// on its way more often than not.
	time.Sleep(30 * time.Millisecond)
	req := plogotlp.NewExportRequest()
	if !readOTLP(w, r, req.UnmarshalProto) {
		return
	}
	s.mu.Lock()
	for _, rl := range req.Logs().ResourceLogs().All() {
		inst, _ := rl.Resource().Attributes().Get("zitadel.instance.id")
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				a := lr.Attributes()
				typ, _ := a.Get("zitadel.aggregate.type")
				id, _ := a.Get("zitadel.aggregate.id")
				seq, _ := a.Get("zitadel.event.sequence")
				uid, _ := a.Get("log.record.uid")
				identity := inst.Str() + "/" + typ.Str() + "/" + id.Str() + "/" + strconv.FormatInt(seq.Int(), 10)
				s.records++
				if prev, ok := s.uids[identity]; ok && prev != uid.Str() {
					s.conflicts++
				}
				if prev, ok := s.owners[uid.Str()]; ok && prev != identity {
					s.conflicts++
				}
				s.uids[identity], s.owners[uid.Str()] = uid.Str(), identity
				for k := range a.All() {
					if len(k) > len("zitadel.event.payload.") && k[:len("zitadel.event.payload.")] == "zitadel.event.payload." {
						s.personal++
					}
				}
			}
		}
	}
	s.mu.Unlock()
	resp, _ := plogotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// pushRecorder writes ZITADEL's pushes from several sessions, each holding
// its transaction open for a random while after its insert, so that pushes
// commit in another order than their positions; it counts those.
type pushRecorder struct {
	mu         sync.Mutex
	open       map[int64]bool // inserted, not committed, by insert order
	inserted   int64
	outOfOrder atomic.Int64
}

func (p *pushRecorder) push(ctx context.Context, pool *pgxpool.Pool, events []zitadeldbtest.Event, hold time.Duration) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := zitadeldbtest.Push(ctx, tx, events...); err != nil {
		return err
	}
	p.mu.Lock()
	p.inserted++
	mine := p.inserted
	p.open[mine] = true
	p.mu.Unlock()
	time.Sleep(hold)
	p.mu.Lock()
	for other := range p.open {
		if other < mine {
			p.outOfOrder.Add(1) // an earlier insert is still uncommitted
			break
		}
	}
	delete(p.open, mine)
	p.mu.Unlock()
	return tx.Commit(ctx)
}

// TestAuditTrailSurvivesKills writes -audit.events events with out-of-order
// commits while the built collector delivers the audit trail to an OTLP/HTTP
// log store, and kills it with SIGKILL -audit.kills times along the way. The
// store must end up with every event, repeats only under the uid the event
// first came with, and no payload field.
func TestAuditTrailSurvivesKills(t *testing.T) {
	bin := collectorBinary(t)
	for _, c := range []struct{ name, lists string }{
		// Plain names: each (aggregate type, event type) pair read through
		// es_projection and merged in order.
		{"narrowed", `      event_types:
        include: [user.human.added, user.human.password.check.failed, user.locked]
      aggregate_types:
        include: [user]
`},
		// No allow list, as the shipped example: every event type, read in
		// windows of creation through es_active_instances.
		{"every event type", `      event_types:
        exclude: ["*.token.added"]
`},
	} {
		t.Run(c.name, func(t *testing.T) { auditTrailSurvivesKills(t, bin, c.lists) })
	}
}

func auditTrailSurvivesKills(t *testing.T, bin, lists string) {
	n := *auditEvents
	d := zitadeldbtest.New(t)
	d.AddInstance(t, auditTrailInstance, time.Now().Add(-24*time.Hour), "audit.zitadel.example")
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	pc, err := pgx.ParseConfig(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	store := &logStore{uids: map[string]string{}, owners: map[string]string{}}
	sink := httptest.NewServer(store)
	t.Cleanup(sink.Close)

	dir := t.TempDir()
	configPath := filepath.Join(dir, "config.yaml")
	writeConfig(t, configPath, auditConfig, map[string]any{
		"Dir": dir, "Sink": sink.Listener.Addr().String(), "TelemetryPort": 0, "Lists": lists,
		"DB": soakDatabaseValues{
			Endpoint: pc.Host + ":" + strconv.Itoa(int(pc.Port)), Username: role.Name,
			Password: role.Password, Database: d.Name,
		},
	})

	// Writers: pushes of 30 events (ten users), four sessions at a time.
	pool, err := pgxpool.New(t.Context(), d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	rec := &pushRecorder{open: map[int64]bool{}}
	const perPush = 30
	pushes := (n + perPush - 1) / perPush
	var next atomic.Int64
	var writers sync.WaitGroup
	writeErr := make(chan error, 4)
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				p := int(next.Add(1)) - 1
				if p >= pushes {
					return
				}
				var events []zitadeldbtest.Event
				for i := 0; i < perPush && p*perPush+i < n; i++ {
					user := fmt.Sprintf("3129%014d", p*perPush/len(auditEventTypes)+i/len(auditEventTypes))
					events = append(events, zitadeldbtest.Event{
						InstanceID: auditTrailInstance, AggregateType: "user",
						AggregateID: user, Type: auditEventTypes[i%len(auditEventTypes)], Owner: "312000000000000011", Creator: user,
						Payload: `{"email":"` + user + `@example.com","encodedHash":"$2a$14$secret"}`,
					})
				}
				hold := time.Duration(rng.IntN(20)) * time.Millisecond
				if err := rec.push(context.Background(), pool, events, hold); err != nil {
					writeErr <- err
					return
				}
			}
		}()
	}

	col := startCollector(t, bin, configPath)
	killRNG := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	kills := 0
	deadline := time.Now().Add(time.Duration(120+n/500) * time.Second)
	for kills < *auditKills {
		// Kill once the store holds another share of the events.
		if store.distinct() >= (kills+1)*n/(*auditKills+1) {
			// At any moment of a page's way: being read, sent, or stored.
			time.Sleep(time.Duration(killRNG.IntN(60)) * time.Millisecond)
			if err := col.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-col.exited
			kills++
			col = startCollector(t, bin, configPath)
		}
		if !col.running() {
			t.Fatalf("collector exited: %v\n%s", col.err, col.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d kills the store holds %d of %d events", kills, store.distinct(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	writers.Wait()
	select {
	case err := <-writeErr:
		t.Fatal(err)
	default:
	}
	for store.distinct() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // two polls more: nothing else may come

	var written int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM eventstore.events2 WHERE instance_id = $1", auditTrailInstance).Scan(&written); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	distinct := len(store.uids)
	report := fmt.Sprintf("audit trail, %s: %d events written (%d pushes committed after a later one), %d kill -9 restarts; "+
		"the store got %d records: %d distinct events, %d lost, %d repeated, %d under a second uid",
		t.Name(), written, rec.outOfOrder.Load(), kills, store.records, distinct, written-distinct, store.records-distinct, store.conflicts)
	t.Log(report)
	if path := os.Getenv("AUDIT_KILLS_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			_, _ = f.WriteString(report + "\n")
			_ = f.Close()
		}
	}
	if written != n || distinct != n {
		t.Errorf("%d events written, %d delivered, want %d", written, distinct, n)
	}
	if store.conflicts != 0 {
		t.Errorf("%d repeats came with another uid", store.conflicts)
	}
	if store.personal != 0 {
		t.Errorf("%d records carry payload fields no one named", store.personal)
	}
	if rec.outOfOrder.Load() == 0 {
		t.Error("no push committed after a later one: the test did not exercise out-of-order commits")
	}
}
