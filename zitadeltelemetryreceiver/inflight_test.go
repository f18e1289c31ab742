package zitadeltelemetryreceiver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// What the calls in flight hold together is bounded on every wire: a call
// with no room is refused at once, before it is decoded, as one to retry
// after a delay, and taken once the calls before it were answered.

// inFlightLimits: bodies and messages of at most 1 MiB, 5 MiB in flight.
func inFlightLimits(c *Config) {
	c.HTTP.Get().MaxRequestBodySize = 1 << 20
	c.GRPC.Get().MaxRecvMsgSizeMiB = 1
	c.MaxBytesInFlight = 5 << 20
}

// inFlightPage is a page of 3,000 of ZITADEL's rows: 720 KB of JSON, 1.5 MB
// decoded and as metrics. Two fit in 5 MiB with their bodies; a third does
// not.
func inFlightPage() *analytics.ReportResourceCountsRequest {
	page := contracttest.ZITADELPage("sys", "", 3000)
	page.ReportId = nil
	return page
}

// gate holds every call until it opens.
type gate struct {
	consumertest.MetricsSink
	arrived chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{arrived: make(chan struct{}, 64), open: make(chan struct{})} }

func (g *gate) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	g.arrived <- struct{}{}
	<-g.open
	return g.MetricsSink.ConsumeMetrics(ctx, md)
}

func (g *gate) let() { g.once.Do(func() { close(g.open) }) }

// startGated starts a receiver whose pipeline holds every call until the
// test ends or lets them through.
func startGated(t *testing.T, configure func(*Config)) (*receiverUnderTest, *gate) {
	t.Helper()
	next := newGate()
	u := startTelemetryReceiver(t, next, configure)
	t.Cleanup(next.let) // before the receiver shuts down
	return u, next
}

func TestCallsBeyondTheBytesInFlightAreRefusedAtOnce(t *testing.T) {
	page := inFlightPage()
	for _, name := range []string{"zitadel", "connect+json", "connect+proto", "grpc"} {
		t.Run(name, func(t *testing.T) {
			u, next := startGated(t, inFlightLimits)
			w := u.wires(t)[name]
			// Calls are sent, each once the one before reached the
			// pipeline, until one finds no room.
			answers := make(chan wireResult, 10)
			held := 0
			var refused wireResult
			for refused.httpStatus == 0 && refused.code == "" {
				if held == 4 {
					t.Fatalf("%d calls of 1.5 MB and more are held within 5 MiB", held)
				}
				start := time.Now()
				go func() { answers <- w.send(t, true, page, nil) }()
				select {
				case <-next.arrived:
					held++
				case refused = <-answers:
					assert.Less(t, time.Since(start), 2*time.Second, "the call waited for room")
				}
			}
			assert.GreaterOrEqual(t, held, 2, "two calls fit")
			if name == "zitadel" {
				assert.Equal(t, http.StatusTooManyRequests, refused.httpStatus, refused.message)
			} else {
				assert.Equal(t, "resource_exhausted", refused.code, refused.message)
			}
			assert.Contains(t, refused.message, "max_bytes_in_flight")

			next.let()
			for range held {
				assert.Equal(t, "ok", (<-answers).code)
			}
			got := w.send(t, true, page, nil)
			assert.Equal(t, "ok", got.code, "the call after them: %s", got.message)
		})
	}
}

// The refusal carries the delay: Retry-After on ZITADEL's wire, a
// RetryInfo on gRPC.
func TestARefusalForTheBytesInFlightSaysWhenToRetry(t *testing.T) {
	page := inFlightPage()
	// Two pages held at the pipeline hold 3 MB of 4 MiB.
	u, next := startGated(t, func(c *Config) {
		inFlightLimits(c)
		c.MaxBytesInFlight = 4 << 20
	})
	wires := u.wires(t)
	for range 2 {
		go func() { wires["zitadel"].send(t, true, page, nil) }()
		<-next.arrived
	}

	body, err := protojson.Marshal(page)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, u.httpURL+zitadelCountsPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	require.NoError(t, err, "no answer while two pages are held")
	res.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))

	g := wires["grpc"].(grpcWire)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = g.conn.Invoke(ctx, g.counts, page, &analytics.ReportResourceCountsResponse{})
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	assert.Equal(t, time.Second, delay)
}

// The charge covers what a call holds while it waits for the pipeline: the
// heap that calls held at the consumer keep alive stays within what they
// were charged, for ZITADEL's rows and for empty ones.
func TestTheChargeCoversWhatACallHolds(t *testing.T) {
	const calls = 8
	for _, tc := range []struct {
		name   string
		body   []byte
		counts bool
	}{
		{"ZITADEL's rows", mustJSON(t, contracttest.ZITADELPage("sys", "", 10000)), true},
		{"the shortest rows", shortRowsJSON(50000), true},
		{"instances of 64 domains", mustJSON(t, baseWith(2000, maxDomainsPerInstance)), false},
		{"instances without domains", mustJSON(t, baseWith(10000, 0)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, next := startGated(t, func(c *Config) { c.MaxBytesInFlight = 1 << 30 })
			w := u.wires(t)["zitadel"]
			before := reachableHeap()
			done := make(chan wireResult, calls)
			for range calls {
				go func() { done <- w.send(t, tc.counts, nil, tc.body) }()
				select {
				case <-next.arrived:
				case got := <-done:
					t.Fatalf("the page was answered %d: %s", got.httpStatus, got.message)
				}
			}
			held := reachableHeap() - before
			charged := u.r.inFlight.Held()
			next.let()
			for range calls {
				<-done
			}
			t.Logf("%d calls of %d bytes hold %d bytes, charged %d", calls, len(tc.body), held, charged)
			assert.Less(t, held, charged)
		})
	}
}

// shortRowsJSON is a page of n rows as short as a valid row can be written.
func shortRowsJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"systemId":"s","resourceCounts":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"instanceId":"i","parentType":"COUNT_PARENT_TYPE_ORGANIZATION","parentId":"%x","resourceName":"u"}`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	require.NoError(t, err)
	return b
}
