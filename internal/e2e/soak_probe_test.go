package e2e

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pipelineCounters are the collector's own counters of one pipeline.
type pipelineCounters struct {
	// scraped and errored are otelcol_scraper_*_metric_points: metrics of
	// whole scrapes, and the points a partial scrape could not read.
	scraped, errored float64
	// accepted are the points the receiver handed to the exporter.
	accepted float64
	// sent and failed are the exporter's points sent, and lost for good.
	sent, failed float64
	// failedScrapes are the receiver's scrapes that read nothing at all
	// (otelcol_zitadel_receiver_scrape_duration_count{outcome="failed"}).
	failedScrapes float64
}

func (c pipelineCounters) sub(o pipelineCounters) pipelineCounters {
	return pipelineCounters{
		scraped: c.scraped - o.scraped, errored: c.errored - o.errored,
		accepted: c.accepted - o.accepted, sent: c.sent - o.sent, failed: c.failed - o.failed,
		failedScrapes: c.failedScrapes - o.failedScrapes,
	}
}

// soakCounters is one read of the collector's own metrics.
type soakCounters struct {
	apiScrapes, dbScrapes float64
	// pending are batches in the exporters' queues or being sent.
	pending   float64
	pipelines []pipelineCounters
}

func readSoakCounters(m exposition, pipelines []soakPipeline) soakCounters {
	c := soakCounters{
		apiScrapes: m.sum("otelcol_zitadel_receiver_scrape_duration_count", `source="api"`),
		dbScrapes:  m.sum("otelcol_zitadel_receiver_scrape_duration_count", `source="database"`),
		pending:    m.sum("otelcol_exporter_queue_size") + m.sum("otelcol_exporter_in_flight_requests"),
	}
	for _, p := range pipelines {
		r, e := `receiver="zitadel/`+p.Name+`"`, `exporter="zitadeltelemetry/`+p.Name+`"`
		c.pipelines = append(c.pipelines, pipelineCounters{
			scraped:       m.sum("otelcol_scraper_scraped_metric_points", r),
			errored:       m.sum("otelcol_scraper_errored_metric_points", r),
			accepted:      m.sum("otelcol_receiver_accepted_metric_points", r),
			sent:          m.sum("otelcol_exporter_sent_metric_points", e),
			failed:        m.sum("otelcol_exporter_send_failed_metric_points", e),
			failedScrapes: m.sum("otelcol_zitadel_receiver_scrape_duration_count", r, `outcome="failed"`),
		})
	}
	return c
}

// drained: nothing waits to be sent, and every point the receivers handed
// on is sent or counted failed.
func (c soakCounters) drained() bool {
	if c.pending != 0 {
		return false
	}
	for _, p := range c.pipelines {
		if p.accepted != p.sent+p.failed {
			return false
		}
	}
	return true
}

// activity moves whenever the collector calls ZITADEL, reads the database
// or sends a page.
func activity(m exposition) float64 {
	return m.sum("otelcol_zitadel_receiver_api_calls") + m.sum("otelcol_zitadel_receiver_database_rows") +
		m.sum("otelcol_zitadeltelemetry_exporter_pages")
}

// processSample is the collector's goroutines and heap (after a GC), as its
// pprof extension reports them.
type processSample struct {
	goroutines int
	heap       uint64
}

// sample takes the least of several reads while the collector is idle:
// connections closing in the background and garbage not yet collected are
// not growth. With atMost above zero it reads on, up to ten seconds, until
// the goroutines are down to it.
func (s *soakRun) sample(atMost int) processSample {
	t := s.t
	t.Helper()
	before := activity(scrapeExposition(t, s.selfURL))
	best := processSample{goroutines: int(^uint(0) >> 1), heap: ^uint64(0)}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 5 || (atMost > 0 && best.goroutines > atMost && time.Now().Before(deadline)); i++ {
		g := pprofValue(t, s.pprofURL+"/debug/pprof/goroutine?debug=1", "goroutine profile: total ")
		h := pprofValue(t, s.pprofURL+"/debug/pprof/heap?gc=1&debug=1", "# HeapAlloc = ")
		best.goroutines, best.heap = min(best.goroutines, int(g)), min(best.heap, h)
		time.Sleep(250 * time.Millisecond)
	}
	if after := activity(scrapeExposition(t, s.selfURL)); after != before {
		t.Fatalf("the collector was at work while its goroutines and heap were sampled (%v -> %v calls, rows and pages)", before, after)
	}
	return best
}

// pprofValue reads the number after prefix in a pprof text profile.
func pprofValue(t *testing.T, url, prefix string) uint64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("pprof %s: %v", url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				t.Fatalf("pprof %s: %q: %v", url, sc.Text(), err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return v
		}
	}
	t.Fatalf("pprof %s: no line %q (%v)", url, prefix, sc.Err())
	return 0
}
