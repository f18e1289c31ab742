package e2e

import (
	"flag"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"text/template"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// The soak's size. `make test` runs the short soak; `make soak` the full one:
// 200 cycles of 1,000 organizations over ten pipelines, measured from cycle 20.
var (
	soakCycles    = flag.Int("soak.cycles", 24, "scrape-and-report cycles of the soak, over all its pipelines")
	soakPipelines = flag.Int("soak.pipelines", 8, "receiver and exporter pairs in the soak's collector; each scrapes once a minute")
	soakOrgs      = flag.Int("soak.orgs", 100, "organizations in the soak's ZITADEL")
	soakWarm      = flag.Int("soak.warm", 8, "cycle after which the collector's goroutines and heap are the baseline")
	soakRate      = flag.Float64("soak.faults", 0.05, "share of ZITADEL and telemetry calls that fail")
	soakRestart   = flag.Bool("soak.restart-postgres", false, "restart PostgreSQL during the soak (the cluster is shared by every package under test)")
)

// soakPagesPerReport cuts every report into this many pages, so that each
// report meets the endpoint's faults.
const soakPagesPerReport = 20

// soakPipeline is one receiver → exporter pair of the soak's collector.
type soakPipeline struct {
	Name     string
	SystemID string
	Delay    time.Duration
	BulkSize int
}

type soakValues struct {
	API           []soakPipeline
	DB            soakPipeline
	All           []soakPipeline
	Database      soakDatabaseValues
	ZitadelAddr   string
	SystemUser    string
	KeyFile       string
	TelemetryURL  string
	TelemetryPort string
	PprofAddr     string
}

// soakTemplate is one collector with a `zitadel` receiver and a
// `zitadeltelemetry` exporter per pipeline, each receiver with a system id of
// its own so that the endpoint keeps each pipeline's reports apart, and one
// `database` pipeline.
var soakTemplate = template.Must(template.New("soak").Parse(`extensions:
  pprof:
    endpoint: {{.PprofAddr}}
receivers:
{{- range .API}}
  zitadel/{{.Name}}:
    collection_interval: 1m
    initial_delay: {{.Delay}}
    system_id: {{.SystemID}}
    api:
      endpoint: {{$.ZitadelAddr}}
      tls:
        insecure: true
      system_user:
        user_id: {{$.SystemUser}}
        key_file: {{$.KeyFile}}
      instances:
        discover: true
      request_timeout: 150ms
      retry:
        max_retries: 6
        initial_interval: 5ms
        max_interval: 50ms
{{- end}}
  zitadel/{{.DB.Name}}:
    source: database
    collection_interval: 1m
    initial_delay: {{.DB.Delay}}
    database:
      endpoint: {{.Database.Endpoint}}
      username: {{.Database.Username}}
      password: "{{.Database.Password}}"
      database: {{.Database.Database}}
      tls:
        mode: disable
      page_size: 100
exporters:
{{- range .All}}
  zitadeltelemetry/{{.Name}}:
    endpoint: {{$.TelemetryURL}}/api/ping
    bulk_size: {{.BulkSize}}
    http:
      timeout: 500ms
    retry_on_failure:
      initial_interval: 5ms
      max_interval: 50ms
      max_elapsed_time: 20s
{{- end}}
` + serviceTelemetryYAML + `  extensions: [pprof]
  pipelines:
{{- range .All}}
    metrics/{{.Name}}:
      receivers: [zitadel/{{.Name}}]
      exporters: [zitadeltelemetry/{{.Name}}]
{{- end}}
`))

// soakShape checks the flags: whole rounds (one cycle of every pipeline), a
// baseline after a whole round, and rounds enough for the database's faults.
func soakShape(t *testing.T) (pipelines, rounds, warmRound int) {
	t.Helper()
	pipelines = *soakPipelines
	if pipelines < 1 || *soakCycles%pipelines != 0 || *soakWarm%pipelines != 0 || *soakWarm < pipelines {
		t.Fatalf("-soak.cycles %d and -soak.warm %d must be whole multiples of -soak.pipelines %d", *soakCycles, *soakWarm, pipelines)
	}
	rounds, warmRound = *soakCycles/pipelines, *soakWarm/pipelines
	need := warmRound + 2 // the cycle killed mid-read and the whole one after it
	if *soakRestart {
		need += 3 // up to three scrapes to recover from the restart
	}
	if rounds < need {
		t.Fatalf("-soak.cycles %d: %d rounds of %d pipelines; the database's faults need %d after the baseline",
			*soakCycles, rounds, pipelines, need)
	}
	return pipelines, rounds, warmRound
}

// TestSoakWithFaults runs scrape-and-report cycles through the built
// collector: several api pipelines against one fake ZITADEL of 1 instance,
// and one database pipeline, all reporting to the reference endpoint, while
// a share of ZITADEL's calls and of the endpoint's calls fail at random
// (unavailable, throttled with a delay to wait, slow beyond the client's
// timeout, connection reset). After every round, each pipeline's cycle is
// either a whole report at the endpoint (every row once after its
// deduplication), or accounted for in the collector's own counters: a
// partial scrape in otelcol_scraper_errored_metric_points, a scrape that read
// nothing in otelcol_zitadel_receiver_scrape_duration_count{outcome="failed"},
// a lost report in otelcol_exporter_send_failed_metric_points. The database pipeline's
// connections are killed mid-read once (and, with -soak.restart-postgres,
// PostgreSQL restarted): that scrape is a counted error, the next one whole.
// The collector's goroutines do not grow, and its heap after the last round
// is within 10 % of the baseline round's.
func TestSoakWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	n, rounds, warmRound := soakShape(t)
	bin := collectorBinary(t)
	dir := t.TempDir()

	spec := fakezitadel.DefaultSpec()
	spec.Instances, spec.OrgsPerInstance = 1, *soakOrgs
	zitadelFaults := faults.New(*soakRate, 1)
	zitadelFaults.RetryAfter, zitadelFaults.SlowCap = 50*time.Millisecond, 2*time.Second
	zitadel, keyFile := startZitadelSpec(t, dir, spec, fakezitadel.Options{Faults: zitadelFaults})
	wantAPI := expectedRows(zitadel.Dataset())

	endpointFaults := faults.New(*soakRate, 2)
	endpointFaults.SlowCap = 5 * time.Second
	endpoint := telemetryserver.New(telemetryserver.Options{DropRequests: true, Faults: endpointFaults})
	if err := endpoint.Start("127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = endpoint.Close() })

	db := startSoakDatabase(t)

	// The api pipelines start a scrape's length apart, in the first part of
	// each minute, so that the rest of the minute is quiet for the
	// goroutine and heap samples.
	spacing := time.Duration(*soakOrgs) * 3 * time.Millisecond
	const firstScrape = 5 * time.Second
	values := soakValues{
		ZitadelAddr: zitadel.GRPCAddr(), SystemUser: systemUser, KeyFile: keyFile,
		TelemetryURL: endpoint.HTTPURL(), PprofAddr: freeAddr(t), Database: db.values,
	}
	for i := range n {
		values.API = append(values.API, soakPipeline{
			Name: "p" + strconv.Itoa(i), SystemID: "soak-system-" + strconv.Itoa(i),
			Delay: firstScrape + time.Duration(i)*spacing, BulkSize: len(wantAPI)/soakPagesPerReport + 1,
		})
	}
	values.DB = soakPipeline{
		Name: "db", SystemID: soakDBSystem, Delay: firstScrape + time.Duration(n)*spacing,
		BulkSize: len(db.want)/soakPagesPerReport + 1,
	}
	values.All = append(append([]soakPipeline(nil), values.API...), values.DB)
	var self string
	self, values.TelemetryPort = ownMetricsPort(t)
	configPath := filepath.Join(dir, "soak.yaml")
	writeConfig(t, configPath, soakTemplate, values)

	s := &soakRun{
		t: t, pipelines: values.All, apiPipelines: n, endpoint: endpoint, db: db,
		selfURL: "http://" + self + "/metrics", pprofURL: "http://" + values.PprofAddr,
	}
	s.collector = startCollector(t, bin, configPath)
	waitForListener(t, s.collector, self)

	var tally, dbTally soakTally
	var baseline, final processSample
	prev := make([]pipelineCounters, len(values.All))
	started := time.Now()
	for round := 1; round <= rounds; round++ {
		if round == rounds/2+1 {
			// One report the endpoint refuses for good: its loss must show
			// in the counters.
			endpoint.Fail(1, codes.InvalidArgument)
		}
		now := s.waitForRound(round)
		for i, p := range values.API {
			tally.add(s.accountCycle(round, p, now.pipelines[i].sub(prev[i]), wantAPI))
		}
		dbCycle := now.pipelines[n].sub(prev[n])
		dbTally.add(s.accountCycle(round, values.DB, dbCycle, db.want))
		db.checkCycle(t, round, dbCycle)
		prev = now.pipelines

		if round == warmRound {
			baseline = s.sample(0)
			t.Logf("baseline after cycle %d: %d goroutines, heap %d KiB", round*n, baseline.goroutines, baseline.heap>>10)
			db.lockCounts(t, round+1)
		}
		if *soakRestart && db.killedRound > 0 && round == db.killedRound+1 {
			db.d.RestartCluster(t)
			db.restartedAfter = round
		}
		t.Logf("round %d (cycles to %d): %s; database pipeline: %s", round, round*n, tally, dbTally)
	}
	final = s.sample(baseline.goroutines)
	elapsed := time.Since(started)
	db.checkDone(t)

	t.Logf("soak: %d cycles of %d organizations (%d rows a report) in %d pipelines of one collector, in %s: %s; "+
		"database pipeline: %d cycles, %s, killed mid-read in round %d%s; zitadel faults %v, endpoint faults %v; "+
		"collector goroutines %d -> %d, heap %d KiB -> %d KiB (%+.1f %%)",
		rounds*n, *soakOrgs, len(wantAPI), n, elapsed.Round(time.Second), tally, rounds, dbTally, db.killedRound, db.restartNote(),
		faultCounts(zitadelFaults), faultCounts(endpointFaults), baseline.goroutines, final.goroutines,
		baseline.heap>>10, final.heap>>10, 100*(float64(final.heap)/float64(baseline.heap)-1))
	if tally.complete == 0 {
		t.Error("no cycle arrived whole")
	}
	if tally.reportsFailed+dbTally.reportsFailed == 0 {
		t.Error("the report the endpoint refused is not counted in otelcol_exporter_send_failed_metric_points")
	}
	if final.goroutines > baseline.goroutines {
		t.Errorf("the collector's goroutines grew: %d after cycle %d, %d after the last", baseline.goroutines, warmRound*n, final.goroutines)
	}
	if growth := float64(final.heap)/float64(baseline.heap) - 1; growth > 0.10 || growth < -0.10 {
		t.Errorf("the collector's heap after the last cycle is %+.1f %% of the baseline's (%d KiB -> %d KiB); at most 10 %%",
			100*growth, baseline.heap>>10, final.heap>>10)
	}
	if *soakRate > 0 {
		z, e := faultCounts(zitadelFaults), faultCounts(endpointFaults)
		for k := faults.Unavailable; k <= faults.Reset; k++ {
			if z[k.String()] == 0 {
				t.Errorf("no ZITADEL call failed as %s", k)
			}
			if e[k.String()] == 0 {
				t.Errorf("no endpoint call failed as %s", k)
			}
		}
	}
}

// soakTally counts the cycles by outcome.
type soakTally struct{ complete, partialScrapes, failedScrapes, reportsFailed int }

func (s *soakTally) add(o cycleOutcome) {
	switch o {
	case cycleComplete:
		s.complete++
	case cyclePartialScrape:
		s.partialScrapes++
	case cycleFailedScrape:
		s.failedScrapes++
	case cycleReportFailed:
		s.reportsFailed++
	}
}

func (s soakTally) String() string {
	return fmt.Sprintf("%d whole, %d partial and %d failed scrapes counted, %d reports lost and counted",
		s.complete, s.partialScrapes, s.failedScrapes, s.reportsFailed)
}

func faultCounts(in *faults.Injector) map[string]int {
	out := map[string]int{}
	for k, n := range in.Counts() {
		out[k.String()] = n
	}
	return out
}

// soakRun is the running soak: the collector and what the test reads of it.
type soakRun struct {
	t            *testing.T
	collector    *collector
	pipelines    []soakPipeline
	apiPipelines int
	endpoint     *telemetryserver.Server
	db           *soakDatabase
	selfURL      string
	pprofURL     string
}

// waitForRound waits until every pipeline finished its scrape of the round
// and its report (the queue is empty, every point handed to the exporter is
// sent or counted failed) and the counters held still for a poll. Meanwhile
// it kills the database pipeline's sessions when they wait on the test's lock.
func (s *soakRun) waitForRound(round int) soakCounters {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last soakCounters
	for {
		s.db.killWaiting(t)
		now := readSoakCounters(scrapeExposition(t, s.selfURL), s.pipelines)
		if now.apiScrapes >= float64(s.apiPipelines*round) && now.dbScrapes >= float64(round) && now.drained() &&
			reflect.DeepEqual(now, last) {
			return now
		}
		last = now
		if !s.collector.running() {
			t.Fatalf("round %d: the collector exited: %v", round, s.collector.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d did not finish in 3 minutes: %+v", round, now)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// cycleOutcome is what became of one pipeline's cycle.
type cycleOutcome int

const (
	cycleComplete cycleOutcome = iota
	cyclePartialScrape
	cycleFailedScrape
	cycleReportFailed
)

// accountCycle checks one pipeline's cycle: whole at the endpoint, or
// accounted for in the collector's counters. It then forgets the pipeline's
// system at the endpoint, so that the next cycle's report is checked alone.
func (s *soakRun) accountCycle(round int, p soakPipeline, d pipelineCounters, want map[rowKey]uint32) cycleOutcome {
	t := s.t
	t.Helper()
	snap, _ := s.endpoint.Snapshot(p.SystemID)
	s.endpoint.Forget(p.SystemID)
	got := receivedRows(snap)
	what := fmt.Sprintf("round %d, pipeline %s", round, p.Name)
	switch {
	case d.failed > 0:
		if d.failed != d.accepted || d.sent != 0 {
			t.Errorf("%s: %v points handed to the exporter, %v counted failed and %v sent", what, d.accepted, d.failed, d.sent)
		}
		t.Logf("%s: report lost, %v points counted in otelcol_exporter_send_failed_metric_points", what, d.failed)
		return cycleReportFailed
	case d.sent != d.accepted:
		t.Errorf("%s: %v points handed to the exporter, %v sent and none counted failed", what, d.accepted, d.sent)
	case d.errored > 0:
		for k, amount := range got {
			if w, ok := want[k]; !ok || w != amount {
				t.Errorf("%s: partial report holds %+v = %d, which the dataset does not", what, k, amount)
			}
		}
		t.Logf("%s: partial scrape, %v points counted in otelcol_scraper_errored_metric_points; %d of %d rows reported",
			what, d.errored, len(got), len(want))
		return cyclePartialScrape
	case d.accepted == 0 && d.failedScrapes > 0:
		if len(got) != 0 {
			t.Errorf("%s: a scrape that read nothing, yet the endpoint holds %d rows", what, len(got))
		}
		t.Logf("%s: the scrape read nothing, counted as outcome=failed", what)
		return cycleFailedScrape
	case d.accepted == 0:
		t.Errorf("%s: nothing reported, and no counter of the collector took the scrape's failure", what)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: the report holds %d distinct rows, the dataset %d (or amounts differ), and no counter of the collector accounts for it",
			what, len(got), len(want))
	}
	return cycleComplete
}
