package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The error table of the README, held against the built collector: one call
// per refusal class on each wire, each answered as the table says, counted
// on the collector's own metrics, and none of them emitted.

const refusalsReportKey = "e2e-refusals-report-key-0123456789abcdef"

var refusalsTemplate = template.Must(template.New("refusals").Parse(`
receivers:
  zitadeltelemetry:
    http:
      endpoint: {{.HTTPAddr}}
      path: /zitadel/ping
      path_secret: ` + pathSecret + `
      max_request_body_size: 65536
    grpc:
      endpoint: {{.GRPCAddr}}
      max_recv_msg_size_mib: 1
    report_ids:
      key: ` + refusalsReportKey + `
    max_rows_per_page: 5
exporters:
  otlp_http:
    endpoint: {{.OTLP}}
    compression: none
{{.Exporter}}
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadeltelemetry]
      exporters: [otlp_http]
`))

type refusalsValues struct {
	HTTPAddr, GRPCAddr, OTLP, TelemetryPort string
	// Exporter is more of the otlp_http exporter's settings, indented.
	Exporter string
}

// refusingCentral is a built collector with the receiver's limits set low.
type refusingCentral struct {
	*collector
	values     refusalsValues
	selfURL    string
	grpcConn   *grpc.ClientConn
	httpClient *http.Client
}

func startRefusingCentral(t *testing.T, otlp, exporter string) *refusingCentral {
	t.Helper()
	self, port := ownMetricsPort(t)
	v := refusalsValues{HTTPAddr: freeAddr(t), GRPCAddr: freeAddr(t), OTLP: otlp, TelemetryPort: port, Exporter: exporter}
	path := filepath.Join(t.TempDir(), "refusals.yaml")
	writeConfig(t, path, refusalsTemplate, v)
	c := &refusingCentral{
		collector: startCollector(t, collectorBinary(t), path), values: v, selfURL: "http://" + self + "/metrics",
		httpClient: newHTTPClient(t),
	}
	for _, addr := range []string{v.HTTPAddr, v.GRPCAddr} {
		waitForListener(t, c.collector, addr)
	}
	var err error
	c.grpcConn, err = grpc.NewClient(v.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { c.grpcConn.Close() })
	return c
}

// answer is what one call came back with: the HTTP status, or the gRPC
// code, and the text; or the connection failed.
type answer struct {
	httpStatus int
	code       codes.Code
	text       string
	lost       bool // the HTTP connection failed before an answer
}

func (a answer) String() string {
	switch {
	case a.lost:
		return "connection lost: " + a.text
	case a.httpStatus != 0:
		return strconv.Itoa(a.httpStatus) + " " + a.text
	}
	return a.code.String() + " " + a.text
}

// retryable is what ZITADEL's client and the exporter send again.
func (a answer) retryable() bool {
	return a.lost || a.httpStatus == http.StatusServiceUnavailable || a.code == codes.Unavailable
}

func (a answer) ok() bool {
	return !a.lost && (a.httpStatus == http.StatusOK || (a.httpStatus == 0 && a.code == codes.OK))
}

// The wires, as the counter's wire attribute names them.
const (
	wireZITADEL = "http"
	wireConnect = "connect"
	wireGRPC    = "grpc"
)

// Paths under the endpoint, ZITADEL's and Connect's.
var (
	zitadelPaths = map[bool]string{false: "/instances", true: "/resource_counts"}
	connectPaths = map[bool]string{
		false: analytics.TelemetryService_ReportBaseInformation_FullMethodName,
		true:  analytics.TelemetryService_ReportResourceCounts_FullMethodName,
	}
)

// call is one call on one wire: msg, or body when it is not nil (what msg
// cannot say), as contentType, under the endpoint base (the path with the
// secret unless a case changes it), with method.
type call struct {
	counts      bool
	msg         proto.Message
	body        []byte
	contentType string
	base        string
	method      string
}

func (c *refusingCentral) endpoint() string {
	return "http://" + c.values.HTTPAddr + "/zitadel/ping/" + pathSecret
}

func (c *refusingCentral) send(t *testing.T, wire string, k call) answer {
	t.Helper()
	if wire == wireGRPC {
		method := connectPaths[k.counts] // gRPC's full method name is Connect's path
		err := c.grpcConn.Invoke(context.Background(), method, k.msg, &analytics.ReportResourceCountsResponse{})
		st := status.Convert(err)
		return answer{code: st.Code(), text: st.Message()}
	}
	body := k.body
	if body == nil {
		var err error
		body, err = protojson.Marshal(k.msg)
		require.NoError(t, err)
	}
	base, method, contentType := k.base, k.method, k.contentType
	if base == "" {
		base = c.endpoint()
	}
	if method == "" {
		method = http.MethodPost
	}
	if contentType == "" {
		contentType = "application/json"
	}
	path := zitadelPaths[k.counts]
	if wire == wireConnect {
		path = connectPaths[k.counts]
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	res, err := c.httpClient.Do(req)
	if err != nil {
		return answer{lost: true, text: err.Error()}
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{lost: true, text: err.Error()}
	}
	return answer{httpStatus: res.StatusCode, text: string(text)}
}

// refusedCalls reads the receiver's refused-calls counter of wire and reason.
func (c *refusingCentral) refusedCalls(t *testing.T, wire, reason string) float64 {
	t.Helper()
	return scrapeExposition(t, c.selfURL).sum("otelcol_zitadeltelemetry_receiver_refused_calls", `wire="`+wire+`"`, `reason="`+reason+`"`)
}

// expiredReportID signs a report id that expired an hour ago with key, as
// the README describes report ids: zr1.<expiry>.<nonce>.<HMAC-SHA256> over
// the system id, expiry and nonce, each preceded by its length.
func expiredReportID(key, systemID string) string {
	expiry := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 36)
	nonce := base64.RawURLEncoding.EncodeToString([]byte("e2e-nonce-12"))
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("zr1"))
	for _, part := range []string{systemID, expiry, nonce} {
		mac.Write([]byte("\x00" + strconv.Itoa(len(part)) + "\x00" + part))
	}
	return "zr1." + expiry + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

const refusedSystem = "e2e-refused-system"

func refusalRow() *analytics.ResourceCount {
	return &analytics.ResourceCount{
		InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		ParentId: "o1", ResourceName: "user", Amount: 3,
	}
}

func refusalPage(reportID string, rows int) *analytics.ReportResourceCountsRequest {
	page := &analytics.ReportResourceCountsRequest{SystemId: refusedSystem}
	if reportID != "" {
		page.ReportId = proto.String(reportID)
	}
	for range rows {
		page.ResourceCounts = append(page.ResourceCounts, refusalRow())
	}
	return page
}

// refusalClass is one row of the README's error table, with what each wire
// answers (0: the class does not exist on that wire).
type refusalClass struct {
	name     string
	call     call
	grpcMsg  proto.Message // when the gRPC call differs
	zitadel  int
	connect  int
	grpcCode codes.Code
	reason   string // the counter's reason
	text     string // in the answer
}

func TestCollectorRefusesEveryClassOnEveryWire(t *testing.T) {
	sink := startOTLPSink(t)
	c := startRefusingCentral(t, sink.url, "")

	// A report id issued to another system, by the collector itself.
	other := c.send(t, wireZITADEL, call{msg: &analytics.ReportBaseInformationRequest{SystemId: "e2e-other-system"}})
	require.True(t, other.ok(), "%s", other)
	foreign := &analytics.ReportBaseInformationResponse{}
	require.NoError(t, protojson.Unmarshal([]byte(other.text), foreign))

	overLong := refusalPage("", 1)
	overLong.ResourceCounts[0].InstanceId = strings.Repeat("9", 65)
	overHTTP := refusalPage("", 1)
	overHTTP.SystemId = strings.Repeat("s", 70_000) // over max_request_body_size: 65536
	overGRPC := refusalPage("", 1)
	overGRPC.SystemId = strings.Repeat("s", 1<<20+1) // over max_recv_msg_size_mib: 1
	wrongSecret := "http://" + c.values.HTTPAddr + "/zitadel/ping/" + strings.ToUpper(pathSecret)

	classes := []refusalClass{
		{
			name: "malformed body", call: call{counts: true, body: []byte(`{"systemId":`)},
			grpcMsg: &wrapperspb.BytesValue{Value: []byte{0xff}}, // field 1, the system id, not UTF-8
			zitadel: 400, connect: 400, grpcCode: codes.InvalidArgument, reason: "malformed", text: "not a ReportResourceCountsRequest",
		},
		{
			name: "over-long field", call: call{counts: true, msg: overLong},
			zitadel: 400, connect: 400, grpcCode: codes.InvalidArgument, reason: "malformed", text: "resourceCounts[0].instanceId is longer than 64 bytes",
		},
		{
			name: "too many rows", call: call{counts: true, msg: refusalPage("", 6)},
			zitadel: 400, connect: 400, grpcCode: codes.InvalidArgument, reason: "malformed", text: "at most 5 per call",
		},
		{
			name: "over the size limit", call: call{counts: true, msg: overHTTP}, grpcMsg: overGRPC,
			zitadel: 413, connect: 429, grpcCode: codes.ResourceExhausted, reason: "too_large",
		},
		{
			name: "unknown report id", call: call{counts: true, msg: refusalPage("report-7", 1)},
			zitadel: 412, connect: 400, grpcCode: codes.FailedPrecondition, reason: "report_id", text: "was not issued by this receiver",
		},
		{
			name: "foreign report id", call: call{counts: true, msg: refusalPage(foreign.ReportId, 1)},
			zitadel: 412, connect: 400, grpcCode: codes.FailedPrecondition, reason: "report_id", text: "was not issued to this system",
		},
		{
			name: "expired report id", call: call{counts: true, msg: refusalPage(expiredReportID(refusalsReportKey, refusedSystem), 1)},
			zitadel: 412, connect: 400, grpcCode: codes.FailedPrecondition, reason: "report_id", text: "expired at",
		},
		{
			name: "wrong content type", call: call{counts: true, msg: refusalPage("", 1), contentType: "text/plain"},
			zitadel: 415, connect: 415, reason: "content_type", text: "text/plain",
		},
		{
			name: "wrong method", call: call{counts: true, msg: refusalPage("", 1), method: http.MethodPut},
			zitadel: 405, connect: 405, reason: "method",
		},
		{
			name: "wrong path secret", call: call{counts: true, msg: refusalPage("", 1), base: wrongSecret},
			zitadel: 404, connect: 404, reason: "not_found",
		},
	}
	want := map[[2]string]float64{}
	for _, rc := range classes {
		for _, wire := range []string{wireZITADEL, wireConnect, wireGRPC} {
			k := rc.call
			if wire == wireGRPC {
				if rc.grpcCode == codes.OK {
					continue // no such call on gRPC
				}
				if rc.grpcMsg != nil {
					k.msg = rc.grpcMsg
				}
			}
			t.Run(rc.name+"/"+wire, func(t *testing.T) {
				got := c.send(t, wire, k)
				switch wire {
				case wireZITADEL:
					assert.Equal(t, rc.zitadel, got.httpStatus, "%s", got)
				case wireConnect:
					assert.Equal(t, rc.connect, got.httpStatus, "%s", got)
				default:
					assert.Equal(t, rc.grpcCode, got.code, "%s", got)
				}
				assert.Contains(t, got.text, rc.text)
				assert.NotContains(t, got.text, pathSecret)
			})
			want[[2]string{wire, rc.reason}]++
		}
	}

	// One call taken after the refusals: once its rows arrived, the sink
	// holds nothing else.
	good := c.send(t, wireZITADEL, call{counts: true, msg: refusalPage("", 2)})
	require.True(t, good.ok(), "%s", good)
	sink.waitForPoints(t, c.collector, 2)
	_, points := sink.snapshot()
	assert.Equal(t, 2, points, "a refused call was emitted")

	// grpc-go answers an oversized message before the receiver counts it.
	deadline := time.Now().Add(10 * time.Second)
	for key, n := range want {
		for c.refusedCalls(t, key[0], key[1]) < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		assert.Equal(t, n, c.refusedCalls(t, key[0], key[1]), "refused calls{wire=%q, reason=%q}", key[0], key[1])
	}
	require.NoError(t, c.terminate(15*time.Second))
}

// heldEndpoint stands in front of an OTLP endpoint and holds every export
// until released: a stalled pipeline.
type heldEndpoint struct {
	url     string
	arrived atomic.Int64
	open    chan struct{}
	once    sync.Once
}

func startHeldEndpoint(t *testing.T, target string) *heldEndpoint {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	h := &heldEndpoint{open: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.arrived.Add(1)
		select {
		case <-h.open:
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { h.release(); srv.Close() })
	h.url = srv.URL
	return h
}

func (h *heldEndpoint) release() { h.once.Do(func() { close(h.open) }) }

// waitForArrivals waits until n exports are held.
func (h *heldEndpoint) waitForArrivals(t *testing.T, c *collector, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.arrived.Load() < n {
		if !c.running() || time.Now().After(deadline) {
			t.Fatalf("%d of %d exports reached the endpoint: %v", h.arrived.Load(), n, c.err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCollectorBackpressureIsRetryable: while the exporter's queue is full
// (one slot, its one consumer held by a stalled endpoint) every wire answers
// a page with a retryable refusal, and the same page sent again once the
// endpoint answers is taken. Every page taken arrives; no refused one does.
func TestCollectorBackpressureIsRetryable(t *testing.T) {
	sink := startOTLPSink(t)
	held := startHeldEndpoint(t, sink.url)
	c := startRefusingCentral(t, held.url, `    retry_on_failure:
      enabled: false
    sending_queue:
      queue_size: 1
      num_consumers: 1
      block_on_overflow: false`)
	page := call{counts: true, msg: refusalPage("", 2)}

	taken := 0
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 10, "the full queue never refused a page")
		got := c.send(t, wireZITADEL, page)
		if got.retryable() {
			break
		}
		require.True(t, got.ok(), "%s", got)
		taken++
		if taken == 1 {
			held.waitForArrivals(t, c.collector, 1) // the consumer holds the first page
		}
	}
	for _, wire := range []string{wireZITADEL, wireConnect, wireGRPC} {
		got := c.send(t, wire, page)
		assert.True(t, got.retryable(), "%s with the queue full: %s", wire, got)
		assert.Contains(t, got.text, "try again")
	}
	for _, wire := range []string{wireZITADEL, wireConnect, wireGRPC} {
		assert.Positive(t, c.refusedCalls(t, wire, "pipeline_busy"), "%s refusals counted as pipeline_busy", wire)
	}

	held.release()
	for _, wire := range []string{wireZITADEL, wireConnect, wireGRPC} {
		deadline := time.Now().Add(30 * time.Second)
		for got := c.send(t, wire, page); !got.ok(); got = c.send(t, wire, page) {
			require.True(t, got.retryable(), "%s after the endpoint recovered: %s", wire, got)
			require.True(t, time.Now().Before(deadline), "%s: the retry was never taken: %s", wire, got)
			time.Sleep(50 * time.Millisecond)
		}
		taken++
	}
	sink.waitForPoints(t, c.collector, 2*taken)
	_, points := sink.snapshot()
	assert.Equal(t, 2*taken, points, "the sink holds exactly the pages taken")
	require.NoError(t, c.terminate(15*time.Second))
}

// TestSIGTERMWithPagesInFlight stops the collector while a page on each
// wire is being consumed, held by an endpoint that never answers, with the
// exporter's default timeout and retries and no sending queue: the receiver
// gives the pages its 5 s drain, the process ends well before the exporter's
// one-minute timeout, and each client gets an answer it sends again.
func TestSIGTERMWithPagesInFlight(t *testing.T) {
	held := startHeldEndpoint(t, startOTLPSink(t).url)
	c := startRefusingCentral(t, held.url, `    sending_queue:
      enabled: false`)
	wires := []string{wireZITADEL, wireConnect, wireGRPC}
	answers := make(chan [2]any, len(wires))
	for _, wire := range wires {
		go func() {
			answers <- [2]any{wire, c.send(t, wire, call{counts: true, msg: refusalPage("", 2)})} //nolint:testifylint // go-require: send fails only on a broken connection, which fails the run anyway
		}()
	}
	held.waitForArrivals(t, c.collector, int64(len(wires)))
	select {
	case a := <-answers:
		t.Fatalf("a page was answered while its export was held: %v", a)
	default:
	}
	took := stopTimed(t, c.collector)
	t.Logf("SIGTERM to exit with %d pages in flight: %s", len(wires), took)
	assert.Less(t, took, 20*time.Second, "the stop waited for the exporter's timeout")
	for range wires {
		a := <-answers
		got := a[1].(answer)
		t.Logf("%s: %s", a[0], got)
		assert.True(t, got.retryable(), "%s: the page cut off by the stop was answered %s", a[0], got)
	}
}
