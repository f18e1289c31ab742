package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The telemetry receiver as the README configures it (http endpoint, path
// secret, report id key, a memory_limiter, the debug exporter), held against
// clients that mean harm.

const hostileReportKey = "e2e-hostile-report-key-0123456789abcdef"

var hostileTemplate = template.Must(template.New("hostile").Parse(`
receivers:
  zitadeltelemetry:
    http:
      endpoint: {{.HTTPAddr}}
      path: /zitadel/ping
      path_secret: ` + pathSecret + `
{{.HTTP}}
    report_ids:
      key: ` + hostileReportKey + `
{{.Receiver}}
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: {{.LimitMiB}}
    spike_limit_mib: {{.SpikeMiB}}
exporters:
  debug:
    verbosity: basic
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadeltelemetry]
      processors: [memory_limiter]
      exporters: [debug]
`))

type hostileValues struct {
	HTTPAddr, TelemetryPort string
	LimitMiB, SpikeMiB      int
	// HTTP and Receiver are more of the receiver's settings, indented for
	// the http block and the receiver.
	HTTP, Receiver string
}

type hostileCollector struct {
	*collector
	values hostileValues
	client *http.Client
}

// startHostileCollector starts the built collector with a memory_limiter of
// limitMiB (spike a fifth of it, as the processor's default).
func startHostileCollector(t testing.TB, limitMiB int, httpExtra, receiverExtra string) *hostileCollector {
	t.Helper()
	v := hostileValues{HTTPAddr: freeAddr(t), LimitMiB: limitMiB, SpikeMiB: limitMiB / 5, HTTP: httpExtra, Receiver: receiverExtra}
	path := filepath.Join(t.TempDir(), "hostile.yaml")
	writeConfig(t, path, hostileTemplate, v)
	c := &hostileCollector{
		collector: startCollector(t, collectorBinary(t), path), values: v,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}},
	}
	t.Cleanup(c.client.CloseIdleConnections)
	waitForListener(t, c.collector, v.HTTPAddr)
	return c
}

func (c *hostileCollector) url(method string) string {
	return "http://" + c.values.HTTPAddr + "/zitadel/ping/" + pathSecret + method
}

// post sends body as ZITADEL does and returns the status and answer.
func (c *hostileCollector) post(method string, body []byte) (int, string, error) {
	status, answer, _, err := c.exchange(method, body, "application/json", "")
	return status, answer, err
}

// exchange posts body with these headers and returns the status, the
// answer and the answer's headers.
func (c *hostileCollector) exchange(method string, body []byte, contentType, contentEncoding string) (int, string, http.Header, error) {
	req, err := http.NewRequest(http.MethodPost, c.url(method), bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if contentEncoding != "" {
		req.Header.Set("Content-Encoding", contentEncoding)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	return res.StatusCode, string(answer), res.Header, err
}

// peakRSSMiB is the collector's peak resident set so far (VmHWM).
func (c *hostileCollector) peakRSSMiB(t testing.TB) float64 {
	t.Helper()
	return procStatusMiB(t, c.cmd.Process.Pid, "VmHWM:")
}

func procStatusMiB(t testing.TB, pid int, field string) float64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

const hostileSystemID = "hostile-e2e-system"

// hostilePage is a ReportResourceCounts page as ZITADEL sends it, in
// ZITADEL's JSON.
func hostilePage(t testing.TB, reportID string, rows int) []byte {
	t.Helper()
	body, err := protojson.Marshal(contracttest.ZITADELPage(hostileSystemID, reportID, rows))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// beginReport sends a base information and returns the report id.
func (c *hostileCollector) beginReport(t testing.TB) string {
	t.Helper()
	body, err := protojson.Marshal(&analytics.ReportBaseInformationRequest{
		SystemId: hostileSystemID, Version: "v4.6.0",
		Instances: []*analytics.InstanceInformation{{Id: "300000000000000000", Domains: []string{"acme.example.com"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	status, answer, err := c.post("/instances", body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("base information: %d %s %v", status, answer, err)
	}
	var res analytics.ReportBaseInformationResponse
	if err := protojson.Unmarshal([]byte(answer), &res); err != nil {
		t.Fatal(err)
	}
	return res.ReportId
}

// BenchmarkCollectorPageThroughput is 50 clients at once sending 10,000-row
// pages to the built collector, whose pipeline is a memory_limiter of 1 GiB
// and the debug exporter: one op is one page, and rows/s is what the
// collector takes.
func BenchmarkCollectorPageThroughput(b *testing.B) {
	const clients, rows = 50, 10000
	c := startHostileCollector(b, 1024, "", "")
	page := hostilePage(b, c.beginReport(b), rows)
	var next atomic.Int64
	var refused atomic.Int64
	var wg sync.WaitGroup
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				status, answer, err := c.post("/resource_counts", page)
				if err != nil || status != http.StatusOK {
					refused.Add(1)
					b.Logf("page refused: %d %s %v", status, answer, err)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(refused.Load()), "refused")
}

// ownMemoryLimitMiB is the memory_limiter of the tests below; the collector's
// peak resident set must stay within it plus a fifth.
const ownMemoryLimitMiB = 256

// TestCollectorSurvivesADeclaredTerabyte: with no max_request_body_size
// written, a call declaring a terabyte and sending a byte once killed the
// collector (out of memory sizing the body's buffer). It is answered now,
// and the collector goes on taking reports.
func TestCollectorSurvivesADeclaredTerabyte(t *testing.T) {
	c := startHostileCollector(t, ownMemoryLimitMiB, "", "")
	conn := startBody(t, c.values.HTTPAddr, "Content-Length: 1099511627776")
	time.Sleep(time.Second) // the collector reads the byte and waits for more
	require.NoError(t, conn.Close())

	page := hostilePage(t, c.beginReport(t), 100)
	status, answer, err := c.post("/resource_counts", page)
	require.NoError(t, err, "the collector went away:\n%s", c.out.String())
	assert.Equal(t, http.StatusOK, status, answer)
	assert.True(t, c.running())
	assert.LessOrEqual(t, c.peakRSSMiB(t), ownMemoryLimitMiB*1.2)
}

// TestGoodClientsAreServedWhileSlowBodiesAreHeld: 100 connections each
// declaring a 20 MiB body and sending a byte at a time once reserved 2 GB,
// and the memory_limiter refused every good page while they were held.
// Memory now grows with what arrives, so every good page is taken.
func TestGoodClientsAreServedWhileSlowBodiesAreHeld(t *testing.T) {
	c := startHostileCollector(t, ownMemoryLimitMiB, "", "")
	stop := holdSlowBodies(t, c.values.HTTPAddr, 100, 20<<20)
	defer stop()

	page := hostilePage(t, c.beginReport(t), 10000)
	for i := range 20 {
		status, answer, err := c.post("/resource_counts", page)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "page %d while 100 slow bodies are held: %s", i, answer)
		time.Sleep(100 * time.Millisecond) // the memory_limiter checks every 100ms
	}
	assert.LessOrEqual(t, c.peakRSSMiB(t), ownMemoryLimitMiB*1.2)
}

// startBody opens a connection and sends a page's request head with
// framing (a Content-Length or chunked) and the body's first byte.
func startBody(t testing.TB, addr, framing string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	first := "{"
	if strings.Contains(framing, "chunked") {
		first = "1\r\n{\r\n"
	}
	_, err = fmt.Fprintf(conn, "POST /zitadel/ping/%s/resource_counts HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s\r\n\r\n%s",
		pathSecret, addr, framing, first)
	require.NoError(t, err)
	return conn
}

// holdSlowBodies opens n connections that each declare a body of declared
// bytes and send one byte a second of it, until stop is called.
func holdSlowBodies(t testing.TB, addr string, n, declared int) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		conn := startBody(t, addr, fmt.Sprintf("Content-Length: %d", declared))
		wg.Go(func() {
			defer conn.Close()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return // the server cut the connection
					}
				}
			}
		})
	}
	time.Sleep(time.Second) // the server has read each first byte
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestASlowBodyIsCutOff: a body that never ends once held its connection
// for as long as the client liked; the server's default read_timeout now
// cuts it within a minute.
func TestASlowBodyIsCutOff(t *testing.T) {
	c := startHostileCollector(t, ownMemoryLimitMiB, "", "")
	conn := startBody(t, c.values.HTTPAddr, "Transfer-Encoding: chunked")
	defer conn.Close()
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(start.Add(70*time.Second)))
	_, err := io.ReadAll(conn) // an answer, then the close; or the close
	require.NoError(t, err, "the connection was still open after %s", time.Since(start))
	assert.Less(t, time.Since(start), time.Minute)
}

var secretEdgeTemplate = template.Must(template.New("edge").Parse(`
receivers:
  zitadeltelemetry:
    http:
      endpoint: {{.HTTPAddr}}
      path_secret: ` + pathSecret + `
exporters:
  zitadeltelemetry:
    endpoint: {{.Central}}/zitadel/ping
    path_secret: {{.CentralSecret}}
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
      max_elapsed_time: 1s
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadeltelemetry]
      exporters: [zitadeltelemetry]
`))

type secretEdgeValues struct {
	HTTPAddr, Central, CentralSecret, TelemetryPort string
}

// TestTheNextHopsSecretIsNeverLogged: an edge collector whose exporter
// reports to a central collector that cannot be reached logs the failed
// sends with the central path secret redacted, and print-config shows it
// as a secret.
func TestTheNextHopsSecretIsNeverLogged(t *testing.T) {
	const centralSecret = "central-path-secret-0123456789abcdef"
	bin := collectorBinary(t)
	v := secretEdgeValues{HTTPAddr: freeAddr(t), Central: "http://" + freeAddr(t), CentralSecret: centralSecret}
	path := filepath.Join(t.TempDir(), "edge.yaml")
	writeConfig(t, path, secretEdgeTemplate, v)
	edge := startCollector(t, bin, path)
	waitForListener(t, edge, v.HTTPAddr)
	c := &hostileCollector{collector: edge, values: hostileValues{HTTPAddr: v.HTTPAddr}, client: newHTTPClient(t)}
	c.beginReport(t)
	deadline := time.Now().Add(30 * time.Second)
	for !edge.out.Contains("/zitadel/ping/[redacted]/instances") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, edge.out.Contains("/zitadel/ping/[redacted]/instances"), "no failed send was logged:\n%s", edge.out.String())
	assert.NotContains(t, edge.out.String(), centralSecret)

	printed, err := exec.Command(bin, "print-config", "--config", path).CombinedOutput()
	require.NoError(t, err, "%s", printed)
	assert.Contains(t, string(printed), "path_secret: '[REDACTED]'")
	assert.NotContains(t, string(printed), centralSecret)
}

// attackLimitMiB is the memory_limiter the attack figures are taken with.
const attackLimitMiB = 512

// BenchmarkCollectorUnderAttack runs each attack once per op against a fresh
// built collector with a 512 MiB memory_limiter and reports its peak
// resident set (peak-MiB, the goal being at most the limit plus a fifth) and
// how a good client fared meanwhile (good-taken, good-refused). Run with
// -benchtime 1x.
func BenchmarkCollectorUnderAttack(b *testing.B) {
	run := func(name string, attack func(b *testing.B, c *hostileCollector)) {
		b.Run(name, func(b *testing.B) {
			var peak float64
			for range b.N {
				c := startHostileCollector(b, attackLimitMiB, "", "")
				attack(b, c)
				if !c.running() {
					b.Fatalf("the collector died:\n%s", c.out.String())
				}
				peak = max(peak, c.peakRSSMiB(b))
				require.NoError(b, c.terminate(10*time.Second))
			}
			b.ReportMetric(peak, "peak-MiB")
		})
	}
	run("declared-terabyte", func(b *testing.B, c *hostileCollector) {
		conn := startBody(b, c.values.HTTPAddr, "Content-Length: 1099511627776")
		time.Sleep(time.Second)
		conn.Close()
		goodPages(b, c, 10, 0)
	})
	run("100-slow-bodies", func(b *testing.B, c *hostileCollector) {
		stop := holdSlowBodies(b, c.values.HTTPAddr, 100, 20<<20)
		defer stop()
		goodPages(b, c, 100, 100*time.Millisecond)
	})
	for _, parallel := range []int{1, 4} {
		run(fmt.Sprintf("1.4M-instances-x%d", parallel), func(b *testing.B, c *hostileCollector) {
			body := instancesBody(1400000, 0)
			b.ReportMetric(float64(len(body))/(1<<20), "body-MiB")
			concurrently(b, parallel, func() (int, string, error) { return c.post("/instances", body) })
		})
		run(fmt.Sprintf("10k-instances-64-domains-x%d", parallel), func(b *testing.B, c *hostileCollector) {
			body := instancesBody(10000, 64)
			b.ReportMetric(float64(len(body))/(1<<20), "body-MiB")
			concurrently(b, parallel, func() (int, string, error) { return c.post("/instances", body) })
		})
	}
	run("50-clients-10k-row-pages", func(b *testing.B, c *hostileCollector) {
		page := hostilePage(b, c.beginReport(b), 10000)
		concurrently(b, 50, func() (int, string, error) {
			for range 9 {
				if status, answer, err := c.post("/resource_counts", page); err != nil || status != http.StatusOK {
					return status, answer, err
				}
			}
			return c.post("/resource_counts", page)
		})
	})
}

// goodPages sends n small pages a pause apart and reports how many were
// taken and refused.
func goodPages(b *testing.B, c *hostileCollector, n int, pause time.Duration) {
	page := hostilePage(b, c.beginReport(b), 100)
	taken := 0
	for range n {
		if status, _, err := c.post("/resource_counts", page); err == nil && status == http.StatusOK {
			taken++
		}
		time.Sleep(pause)
	}
	b.ReportMetric(float64(taken), "good-taken")
	b.ReportMetric(float64(n-taken), "good-refused")
}

// concurrently runs call parallel times at once and reports the answers'
// statuses.
func concurrently(b *testing.B, parallel int, call func() (int, string, error)) {
	var wg sync.WaitGroup
	statuses := make([]int, parallel)
	for i := range parallel {
		wg.Go(func() {
			status, _, err := call()
			if err != nil {
				status = -1
			}
			statuses[i] = status
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	for status, n := range counts {
		b.ReportMetric(float64(n), fmt.Sprintf("answered-%d", status))
	}
}

// instancesBody is a base information naming n instances with domains
// each, in ZITADEL's JSON, as short as such a call can be written.
func instancesBody(n, domains int) []byte {
	var body bytes.Buffer
	body.WriteString(`{"systemId":"` + hostileSystemID + `","instances":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"id":"` + strconv.FormatInt(int64(i), 36) + `"`)
		if domains > 0 {
			body.WriteString(`,"domains":[`)
			for j := range domains {
				if j > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, `"d%d.i%d.example.com"`, j, i)
			}
			body.WriteByte(']')
		}
		body.WriteByte('}')
	}
	body.WriteString(`]}`)
	return body.Bytes()
}
