package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// selfMetricsTemplate is the main configuration with the collector's own
// metrics served on a loopback port.
var selfMetricsTemplate = template.Must(template.New("self").Parse(receiverYAML + `exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    bulk_size: {{.BulkSize}}
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [zitadeltelemetry]
`))

// ownMetricsPort is a free loopback port for a collector's own metrics.
func ownMetricsPort(t *testing.T) (addr, port string) {
	t.Helper()
	addr = freeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return addr, port
}

// waitForOwnMetric reads a collector's own metrics until name (with labels)
// reaches least, and returns that read.
func waitForOwnMetric(t *testing.T, c *collector, addr, name string, least float64, labels ...string) exposition {
	t.Helper()
	var m exposition
	waitUntil(t, 60*time.Second, fmt.Sprintf("%s%v reaches %v", name, labels, least), func() (bool, string) {
		// The endpoint opens while the collector starts.
		var err error
		m, err = readExposition("http://" + addr + "/metrics")
		return err == nil && m.sum(name, labels...) >= least, fmt.Sprintf("(%v)\n%s", err, m.text)
	}, c)
	return m
}

// TestCollectorCountsItsOwnWork runs one scrape with throttled calls and one
// report whose id expires once, then reads the collector's own metrics and
// checks each against what the fake ZITADEL and the endpoint saw.
func TestCollectorCountsItsOwnWork(t *testing.T) {
	const throttled = 3
	own, port := ownMetricsPort(t)
	p := startPipelineWith(t, pipelineOptions{
		config: selfMetricsTemplate, orgsPerInstance: 5,
		values:           configValues{Interval: time.Hour, BulkSize: 40, TelemetryPort: port},
		configure:        func(s *telemetryserver.Server) { s.ExpireNext(1) },
		configureZitadel: func(z *fakezitadel.Server) { z.FailCalls("", codes.ResourceExhausted, throttled) },
	})
	snap := p.waitForCompleteReport(t, 90*time.Second)
	p.assertReportEqualsDataset(t, snap)

	// The report counter moves after the endpoint answered the last page.
	m := waitForOwnMetric(t, p.collector, own, "otelcol_zitadeltelemetry_exporter_reports", 1)

	expect(t, "api calls", m.sum("otelcol_zitadel_receiver_api_calls"), float64(p.zitadel.TotalCalls()))
	expect(t, "api calls refused", m.sum("otelcol_zitadel_receiver_api_calls", `code="ResourceExhausted"`), throttled)
	expect(t, "throttled calls", m.sum("otelcol_zitadel_receiver_api_throttled_calls"), throttled)
	expect(t, "retries", m.sum("otelcol_zitadel_receiver_api_retries", `code="ResourceExhausted"`), throttled)
	expect(t, "scrapes timed", m.sum("otelcol_zitadel_receiver_scrape_duration_count", `source="api"`), 1)

	taken, takenRows := p.telemetry.PagesTaken()
	pages, rows := float64(taken), float64(takenRows)
	expect(t, "reports", m.sum("otelcol_zitadeltelemetry_exporter_reports", `protocol="http"`), 1)
	expect(t, "report restarts", m.sum("otelcol_zitadeltelemetry_exporter_report_restarts", `protocol="http"`), 1)
	expect(t, "pages", m.sum("otelcol_zitadeltelemetry_exporter_pages", `protocol="http"`), pages)
	expect(t, "rows", m.sum("otelcol_zitadeltelemetry_exporter_rows", `protocol="http"`), rows)
	expect(t, "rows withheld", m.sum("otelcol_zitadeltelemetry_exporter_rows_left_out", `reason="withheld"`),
		float64(len(p.dataset.ExpectedCounts())-len(p.dataset.ExpectedReported())))
	// The refused first page is not counted: every row was taken once.
	expect(t, "rows against distinct rows", rows, float64(len(snap.Rows)))
	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
}

// expect reports a figure of the collector's own metrics that is not what
// happened.
func expect(t *testing.T, what string, got, want float64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// exposition is one read of a Prometheus text endpoint.
type exposition struct{ text string }

func scrapeExposition(t *testing.T, url string) exposition {
	t.Helper()
	m, err := readExposition(url)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readExposition(url string) (exposition, error) {
	resp, err := http.Get(url)
	if err != nil {
		return exposition{}, fmt.Errorf("metrics endpoint %s: %w", url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return exposition{}, fmt.Errorf("metrics endpoint %s: %w", url, err)
	}
	return exposition{text: b.String()}, nil
}

// sum adds the samples of name whose labels contain every one of labels.
func (m exposition) sum(name string, labels ...string) float64 {
	var total float64
	for _, rest := range m.series(name, labels...) {
		v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err == nil {
			total += v
		}
	}
	return total
}

// count is the number of series of name with labels.
func (m exposition) count(name string, labels ...string) int { return len(m.series(name, labels...)) }

// series are the lines of name's series with labels, without the name.
func (m exposition) series(name string, labels ...string) []string {
	var out []string
	for _, line := range strings.Split(m.text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		matched := true
		for _, l := range labels {
			matched = matched && strings.Contains(rest, l)
		}
		if matched {
			out = append(out, rest)
		}
	}
	return out
}
