package zitadeldb

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// The kill test's settings, from the environment of the parent and the reader.
const (
	killEventsEnv = "ZITADEL_ACTIVITY_KILL_EVENTS" // events to write; default defaultKillEvents
	childModeEnv  = "ZITADEL_ACTIVITY_CHILD"       // "run" or "final": this process is the reader
	childDSNEnv   = "ZITADEL_ACTIVITY_CHILD_DSN"
	childDirEnv   = "ZITADEL_ACTIVITY_CHILD_DIR" // the storage directory; the final report goes beside it
)

// defaultKillEvents is make test's size; docs/benchmarks.md has 1,000,000.
const defaultKillEvents = 20_000

// killApps and killOrgs span the login series: each event's series comes
// from a hash of its number, so two different stretches of events never
// hold the same mix and a stretch lost cannot hide behind one counted twice.
const (
	killApps = 50
	killOrgs = 20
)

func killSeries(i int) (app, org string) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strconv.Itoa(i)))
	v := h.Sum64()
	return fmt.Sprintf("app-%02d", v%killApps), fmt.Sprintf("org-%02d", v/killApps%killOrgs)
}

// killReport is what the final reader found.
type killReport struct {
	Logins map[string]uint64 // by "app org"
	Checks map[string]uint64 // by org
}

// TestActivityReadWhileWrittenSurvivesKills writes password logins (the
// login and its check: two events) from concurrent pushes that commit out
// of order, some held open for a while, while a reader process counts them
// with storage; the reader is killed with SIGKILL three times while it
// reads and restarted. Once the writes are done a last reader catches up,
// and every series must hold exactly what was written: nothing lost,
// nothing counted twice.
//
//	ZITADEL_ACTIVITY_KILL_EVENTS=1000000 scripts/with-postgres.sh go test -count=1 -timeout 60m \
//	  -run TestActivityReadWhileWrittenSurvivesKills -v ./internal/zitadeldb
func TestActivityReadWhileWrittenSurvivesKills(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("this process is the reader")
	}
	events := defaultKillEvents
	if v := os.Getenv(killEventsEnv); v != "" {
		var err error
		events, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	logins := events / 2
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	require.NoError(t, os.Mkdir(storage, 0o700))

	pc, err := pgxpool.ParseConfig(d.DSN)
	require.NoError(t, err)
	pc.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	started := time.Now()
	var written atomic.Int64
	var wg sync.WaitGroup
	const writers, perPush = 6, 10 // logins per push
	// The writes are paced to last at least minWriting, so that each
	// reader reads while they go on, whatever the size.
	const minWriting = 6 * time.Second
	pause := minWriting * writers / time.Duration(logins/perPush+1)
	next := atomic.Int64{}
	order := &commitOrder{open: map[int64]bool{}}
	for w := range writers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				first := int(next.Add(perPush)) - perPush
				if first >= logins {
					return
				}
				var batch []zitadeldbtest.Event
				for i := first; i < min(first+perPush, logins); i++ {
					app, org := killSeries(i)
					s := strconv.Itoa(i)
					batch = append(batch,
						zitadeldbtest.Event{
							InstanceID: "i1", AggregateType: "oidc_session", AggregateID: "V2_" + s, Type: "oidc_session.added",
							Owner: org, Payload: `{"userID":"u` + s + `","userResourceOwner":"` + org + `","sessionID":"s` + s + `","clientID":"` + app + `","authMethods":[4]}`,
						},
						zitadeldbtest.Event{
							InstanceID: "i1", AggregateType: "user", AggregateID: "u" + s, Type: "user.human.password.check.succeeded",
							Owner: org, Payload: `{}`,
						})
				}
				tx, err := pool.Begin(context.Background())
				if !assert.NoError(t, err) {
					return
				}
				if !assert.NoError(t, zitadeldbtest.Push(context.Background(), tx, batch...)) {
					_ = tx.Rollback(context.Background())
					return
				}
				inserted := order.inserted()
				// Most pushes commit at once; one in fifty stays open while
				// later ones commit.
				if rnd.IntN(50) == 0 {
					time.Sleep(time.Duration(20+rnd.IntN(200)) * time.Millisecond)
				}
				order.committing(inserted)
				if !assert.NoError(t, tx.Commit(context.Background())) {
					return
				}
				written.Add(int64(len(batch)))
				time.Sleep(pause)
			}
		})
	}

	// The reader is killed a quarter, half and three quarters of the way,
	// and says how far it had counted.
	var progress []string
	kills := 0
	for _, quarters := range []int64{1, 2, 3} {
		reader := startKillChild(t, "run", d.DSN, storage)
		for _, read := reader.counted(); !read || written.Load() < int64(events)*quarters/4; _, read = reader.counted() {
			require.Less(t, written.Load(), int64(events), "the writes ended before reader %d read", quarters)
			time.Sleep(5 * time.Millisecond)
		}
		reader.kill(t)
		kills++
		counted, _ := reader.counted()
		progress = append(progress, fmt.Sprintf("%d of %d written", counted, written.Load()))
	}
	wg.Wait()
	wrote := time.Since(started)
	require.Equal(t, int64(events), written.Load())

	final := startKillChild(t, "final", d.DSN, storage)
	require.NoError(t, final.cmd.Wait(), "the last reader: %s", final.output())
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var got killReport
	require.NoError(t, json.Unmarshal(data, &got))

	want := killReport{Logins: map[string]uint64{}, Checks: map[string]uint64{}}
	for i := range logins {
		app, org := killSeries(i)
		want.Logins[app+" "+org]++
		want.Checks[org]++
	}
	lost, twice := compareSeries(want.Logins, got.Logins)
	lostChecks, twiceChecks := compareSeries(want.Checks, got.Checks)
	t.Logf("%d events (%d logins, %d checks) in %s from %d writers, %d pushes committed after a later one; reader killed %d times "+
		"while reading, having counted %s; lost %d, counted twice %d", events, logins, logins, wrote.Round(time.Millisecond), writers,
		order.outOfOrder.Load(), kills, strings.Join(progress, ", "), lost+lostChecks, twice+twiceChecks)
	assert.Positive(t, order.outOfOrder.Load(), "no push committed after a later one: out-of-order commits not exercised")
	assert.Zero(t, lost+lostChecks, "events lost")
	assert.Zero(t, twice+twiceChecks, "events counted twice")
	assert.Equal(t, 3, kills)
}

// commitOrder counts the pushes that commit while one inserted before them
// is still open: the commits out of order the reader must not miss.
type commitOrder struct {
	mu         sync.Mutex
	open       map[int64]bool
	last       int64
	outOfOrder atomic.Int64
}

func (o *commitOrder) inserted() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last++
	o.open[o.last] = true
	return o.last
}

func (o *commitOrder) committing(n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for other := range o.open {
		if other < n {
			o.outOfOrder.Add(1)
			break
		}
	}
	delete(o.open, n)
}

func compareSeries(want, got map[string]uint64) (lost, twice uint64) {
	for k, w := range want {
		g := got[k]
		if g < w {
			lost += w - g
		} else {
			twice += g - w
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			twice += g
		}
	}
	return lost, twice
}

type killChild struct {
	cmd *exec.Cmd
	out *os.File
}

func startKillChild(t *testing.T, mode, dsn, storage string) *killChild {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "reader-*.log")
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestActivityKillReader$", "-test.v")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childDSNEnv+"="+dsn, childDirEnv+"="+storage)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	return &killChild{cmd: cmd, out: out}
}

func (c *killChild) output() string {
	b, _ := os.ReadFile(c.out.Name())
	return string(b)
}

// counted is the last count the reader printed, and whether it printed one.
func (c *killChild) counted() (uint64, bool) {
	var n uint64
	read := false
	for _, l := range strings.Split(c.output(), "\n") {
		if v, ok := strings.CutPrefix(l, "counted "); ok {
			n, _ = strconv.ParseUint(v, 10, 64)
			read = true
		}
	}
	return n, read
}

// kill ends the reader with SIGKILL, wherever it is.
func (c *killChild) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.cmd.Wait()
}

// TestActivityKillReader is the reader process of the kill test: it scrapes
// as fast as it can with storage until it is killed ("run"), or until it
// has caught up and then writes what it counted ("final").
func TestActivityKillReader(t *testing.T) {
	mode := os.Getenv(childModeEnv)
	if mode == "" {
		t.Skip("run by TestActivityReadWhileWrittenSurvivesKills")
	}
	dir := os.Getenv(childDirEnv)
	id, host := storageclienttest.FileStorage(t, dir)
	cfg := NewDefaultConfig()
	cfg.DSN = configopaque.String(os.Getenv(childDSNEnv))
	act := activity.NewDefaultConfig()
	act.Enabled, act.Storage, act.Lookback = true, &id, 24*time.Hour
	act.MaxEventsPerScrape = 5000 // many reads while the events are written
	s := NewSource(&cfg, act, model.NewResourceFilter([]string{model.ResourceOrganization}), componenttest.NewNopTelemetrySettings(), ownMetrics(t, componenttest.NewNopTelemetrySettings())).(*source)
	s.SetStorageOwner(id)
	require.NoError(t, s.Start(t.Context(), host))
	var last, same uint64
	for {
		rec := &activityRecording{Reports: activitytest.Reports{}}
		require.NoError(t, s.Scrape(t.Context(), rec))
		rep := rec.Reports["i1"]
		total := activitytest.Logins(rep)
		for _, c := range rep.Checks {
			total += c.Count
		}
		if mode != "final" {
			fmt.Printf("counted %d\n", total)
			continue
		}
		if total == last && len(rep.Active) > 0 {
			same++
		} else {
			same = 0
		}
		last = total
		if same < 2 {
			continue
		}
		out := killReport{Logins: map[string]uint64{}, Checks: map[string]uint64{}}
		for _, l := range rep.Logins {
			out.Logins[l.Application+" "+l.Organization] += l.Count
		}
		for _, c := range rep.Checks {
			out.Checks[c.Organization] += c.Count
		}
		data, err := json.Marshal(out)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(dir), "report.json"), data, 0o600))
		require.NoError(t, s.Shutdown(context.Background()))
		return
	}
}
