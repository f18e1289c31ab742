package zitadeltelemetryreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// TestZITADELClientReportsThroughTheReceiver sends a report of several
// instances and thousands of rows as ZITADEL's service ping does; every row
// and every instance comes out as the metric contract says, once.
func TestZITADELClientReportsThroughTheReceiver(t *testing.T) {
	for _, updatedAt := range []bool{false, true} {
		t.Run(fmt.Sprintf("updated_at_attribute=%v", updatedAt), func(t *testing.T) {
			sink := &consumertest.MetricsSink{}
			u := startTelemetryReceiver(t, sink, func(c *Config) { c.UpdatedAtAttribute = updatedAt })
			base, rows := contracttest.Report("system-a", 5, 200)
			require.Greater(t, len(rows), 3000)
			require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 1000))
			contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.AllMetrics()), base, rows, updatedAt)
		})
	}
}

// TestEveryWireCarriesTheSameReport sends one report on each wire.
func TestEveryWireCarriesTheSameReport(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, nil)
	base, rows := contracttest.Report("system-w", 3, 50)
	for name, w := range u.wires(t) {
		t.Run(name, func(t *testing.T) {
			sink.Reset()
			res := w.send(t, false, base, nil)
			require.Equal(t, "ok", res.code, res.message)
			require.NotEmpty(t, res.reportID)
			for start := 0; start < len(rows); start += 60 {
				page := &analytics.ReportResourceCountsRequest{
					SystemId: base.SystemId, ReportId: proto.String(res.reportID),
					ResourceCounts: rows[start:min(start+60, len(rows))],
				}
				got := w.send(t, true, page, nil)
				require.Equal(t, "ok", got.code, got.message)
				assert.Equal(t, res.reportID, got.reportID, "a page answers the report id it continues")
			}
			contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.AllMetrics()), base, rows, false)
		})
	}
}

// TestPagesWithoutReportIDGetOne: ZITADEL leaves the id out when the base
// information answered none.
func TestPagesWithoutReportIDGetOne(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, nil)
	_, rows := contracttest.Report("system-n", 1, 3)
	id, err := u.pingClient().ReportResourceCounts(context.Background(),
		&analytics.ReportResourceCountsRequest{SystemId: "system-n", ResourceCounts: rows})
	require.NoError(t, err)
	assert.Empty(t, u.r.ids.verify(id, "system-n"))
	assert.Equal(t, len(rows), sink.DataPointCount())
}

// refusalCase is one way a call is refused, with what each wire answers.
type refusalCase struct {
	name      string
	configure func(*Config)
	next      consumer.Metrics
	counts    bool
	// request builds the call; raw bodies per wire family override it.
	request  func(u *receiverUnderTest) proto.Message
	rawJSON  []byte
	rawProto []byte
	zitadel  int    // HTTP status on ZITADEL's wire
	connect  int    // HTTP status on the Connect paths
	code     string // Connect and gRPC code
	reason   string // in the message
	// counted is the reason attribute of the refused-calls counter;
	// "" is malformed.
	counted string
}

func (tc refusalCase) countedAs() string {
	if tc.counted == "" {
		return "malformed"
	}
	return tc.counted
}

func pageOf(systemID string, reportID *string, rows ...*analytics.ResourceCount) *analytics.ReportResourceCountsRequest {
	return &analytics.ReportResourceCountsRequest{SystemId: systemID, ReportId: reportID, ResourceCounts: rows}
}

func goodRow() *analytics.ResourceCount {
	return &analytics.ResourceCount{
		InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		ParentId: "o1", ResourceName: "user", TableName: "projections.users14", Amount: 3,
	}
}

func manyRows(n int) []*analytics.ResourceCount {
	rows := make([]*analytics.ResourceCount, n)
	for i := range rows {
		rows[i] = goodRow()
		rows[i].ParentId = fmt.Sprintf("organization-%08d", i)
	}
	return rows
}

func refusalCases() []refusalCase {
	withRow := func(change func(*analytics.ResourceCount)) func(*receiverUnderTest) proto.Message {
		return func(*receiverUnderTest) proto.Message {
			rc := goodRow()
			change(rc)
			return pageOf("sys", nil, rc)
		}
	}
	return []refusalCase{
		{
			name: "not a message", counts: true, rawJSON: []byte(`{"systemId":`), rawProto: []byte{0x0a, 0x05, 'a'},
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "not a ReportResourceCountsRequest",
		},
		{
			name: "invalid UTF-8", counts: true, rawJSON: []byte("{\"systemId\":\"\xff\"}"), rawProto: []byte{0x0a, 0x01, 0xff},
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "UTF-8",
		},
		{
			name: "base information not a message", rawJSON: []byte(`[1]`), rawProto: []byte{0x1a, 0x7f},
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "not a ReportBaseInformationRequest",
		},
		{
			name: "wrong type", counts: true, rawJSON: []byte(`{"systemId":"s","resourceCounts":[{"amount":"many"}]}`),
			rawProto: []byte{0x1a, 0x02, 0x48, 0x80}, // amount: a varint cut short
			zitadel:  400, connect: 400, code: "invalid_argument", reason: "not a ReportResourceCountsRequest",
		},
		{
			name: "amount beyond uint32", counts: true, rawJSON: []byte(`{"systemId":"s","resourceCounts":[{"amount":4294967296}]}`),
			rawProto: []byte{0x1a, 0x01}, // a row that ends too soon
			zitadel:  400, connect: 400, code: "invalid_argument", reason: "not a ReportResourceCountsRequest",
		},
		{
			name: "missing system id", counts: true, request: func(*receiverUnderTest) proto.Message { return pageOf("", nil, goodRow()) },
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "systemId is missing",
		},
		{
			name: "over-long instance id", counts: true, request: withRow(func(rc *analytics.ResourceCount) { rc.InstanceId = strings.Repeat("9", 65) }),
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "resourceCounts[0].instanceId is longer than 64 bytes",
		},
		{
			name: "unspecified parent type", counts: true, request: withRow(func(rc *analytics.ResourceCount) { rc.ParentType = 0 }),
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "resourceCounts[0].parentType",
		},
		{
			name: "e-mail address as the parent id", counts: true, request: withRow(func(rc *analytics.ResourceCount) { rc.ParentId = "alice@example.com" }),
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "resourceCounts[0].parentId is not an id: byte 5 is '@'",
		},
		{
			name: "display name as the resource name", counts: true, request: withRow(func(rc *analytics.ResourceCount) { rc.ResourceName = "Alice Example" }),
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "resourceCounts[0].resourceName is not a resource name",
		},
		{name: "e-mail address as a domain", request: func(*receiverUnderTest) proto.Message {
			return &analytics.ReportBaseInformationRequest{SystemId: "sys", Instances: []*analytics.InstanceInformation{{Id: "i1", Domains: []string{"bob@example.com"}}}}
		}, zitadel: 400, connect: 400, code: "invalid_argument", reason: "instances[0].domains[0] is not a host name"},
		{
			name: "missing resource name", counts: true, request: withRow(func(rc *analytics.ResourceCount) { rc.ResourceName = "" }),
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "resourceCounts[0].resourceName is missing",
		},
		{name: "duplicate instance", request: func(*receiverUnderTest) proto.Message {
			return &analytics.ReportBaseInformationRequest{SystemId: "sys", Instances: []*analytics.InstanceInformation{{Id: "i1"}, {Id: "i1"}}}
		}, zitadel: 400, connect: 400, code: "invalid_argument", reason: "instances[1].id \"i1\" is instances[0] again"},
		{
			name: "too many rows", counts: true, configure: func(c *Config) { c.MaxRowsPerPage = 100 },
			request: func(*receiverUnderTest) proto.Message { return pageOf("sys", nil, manyRows(101)...) },
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "at most 100 per call",
		},
		{
			name: "page over the size limit", counts: true, configure: func(c *Config) {
				c.HTTP.Get().MaxRequestBodySize = 1 << 20
				c.GRPC.Get().MaxRecvMsgSizeMiB = 1
			}, request: func(*receiverUnderTest) proto.Message { return pageOf("sys", nil, manyRows(20000)...) },
			zitadel: 413, connect: 429, code: "resource_exhausted", reason: "", counted: "too_large",
		},
		{name: "unknown report id", counts: true, request: func(*receiverUnderTest) proto.Message {
			return pageOf("sys", proto.String("report-7"), goodRow())
		}, zitadel: 412, connect: 400, code: "failed_precondition", reason: "was not issued by this receiver", counted: "report_id"},
		{name: "foreign report id", counts: true, request: func(u *receiverUnderTest) proto.Message {
			return pageOf("sys", proto.String(u.r.ids.issue("another-system")), goodRow())
		}, zitadel: 412, connect: 400, code: "failed_precondition", reason: "was not issued to this system", counted: "report_id"},
		{name: "expired report id", counts: true, request: func(u *receiverUnderTest) proto.Message {
			id := u.r.ids.issue("sys")
			u.clock.Advance(defaultReportIDTTL)
			return pageOf("sys", proto.String(id), goodRow())
		}, zitadel: 412, connect: 400, code: "failed_precondition", reason: "expired at", counted: "report_id"},
		{
			name: "unknown system, base information", configure: func(c *Config) { c.Systems = []string{"known-system"} },
			request: func(*receiverUnderTest) proto.Message {
				return &analytics.ReportBaseInformationRequest{SystemId: "made-up-system", Instances: []*analytics.InstanceInformation{{Id: "i1"}}}
			}, zitadel: 403, connect: 403, code: "permission_denied", reason: "not one of the systems this receiver takes (systems)", counted: "unknown_system",
		},
		{
			name: "unknown system, page", counts: true, configure: func(c *Config) { c.Systems = []string{"known-system"} },
			request: func(*receiverUnderTest) proto.Message { return pageOf("made-up-system", nil, goodRow()) },
			zitadel: 403, connect: 403, code: "permission_denied", reason: "not one of the systems this receiver takes (systems)", counted: "unknown_system",
		},
		{
			name: "too many instances", configure: func(c *Config) { c.MaxInstancesPerCall = 3 },
			request: func(*receiverUnderTest) proto.Message { return baseWith(4, 1) },
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "instances has 4 entries; this receiver takes at most 3 per call (max_instances_per_call)",
		},
		{
			name: "too many domains", request: func(*receiverUnderTest) proto.Message { return baseWith(1, maxDomainsPerInstance+1) },
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "an instance has 65 domains; this receiver takes at most 64 per instance",
		},
		{
			name: "pipeline busy", counts: true, next: consumertest.NewErr(errors.New("sending queue is full")),
			request: func(*receiverUnderTest) proto.Message { return pageOf("sys", nil, goodRow()) },
			zitadel: 503, connect: 503, code: "unavailable", reason: "sending queue is full", counted: "pipeline_busy",
		},
		{
			name: "pipeline busy at base information", next: consumertest.NewErr(errors.New("data refused due to high memory usage")),
			request: func(*receiverUnderTest) proto.Message {
				return &analytics.ReportBaseInformationRequest{SystemId: "sys", Instances: []*analytics.InstanceInformation{{Id: "i1"}}}
			}, zitadel: 503, connect: 503, code: "unavailable", reason: "high memory usage", counted: "pipeline_busy",
		},
		{
			name: "pipeline refuses for good", counts: true, next: consumertest.NewErr(consumererror.NewPermanent(errors.New("no such tenant"))),
			request: func(*receiverUnderTest) proto.Message { return pageOf("sys", nil, goodRow()) },
			zitadel: 400, connect: 400, code: "invalid_argument", reason: "no such tenant", counted: "pipeline_permanent",
		},
	}
}

// TestRefusalsOnEveryWire: each refusal class gets the answer its wire
// expects, a reason, is counted once by wire and reason, and nothing is
// emitted.
func TestRefusalsOnEveryWire(t *testing.T) {
	for _, tc := range refusalCases() {
		t.Run(tc.name, func(t *testing.T) {
			sink := &consumertest.MetricsSink{}
			next := tc.next
			if next == nil {
				next = sink
			}
			u := startTelemetryReceiver(t, next, tc.configure)
			for name, w := range u.wires(t) {
				t.Run(name, func(t *testing.T) {
					var msg proto.Message
					if tc.request != nil {
						msg = tc.request(u)
					}
					raw := tc.rawJSON
					if name == "grpc" || name == "connect+proto" {
						raw = tc.rawProto
					}
					if msg == nil && raw == nil {
						t.Skip("no such body on this wire")
					}
					before := refusedCalls(t, u.tel)
					got := w.send(t, tc.counts, msg, raw)
					assertCountedOnce(t, u.tel, before, wireAttribute[name]+"/"+tc.countedAs())
					switch name {
					case "zitadel":
						assert.Equal(t, tc.zitadel, got.httpStatus, got.message)
					case "grpc":
						assert.Equal(t, tc.code, got.code, got.message)
					default:
						assert.Equal(t, tc.connect, got.httpStatus, got.message)
						assert.Equal(t, tc.code, got.code, got.message)
					}
					assert.Contains(t, got.message, tc.reason)
					assert.Zero(t, sink.DataPointCount(), "a refused call emitted data")
				})
			}
		})
	}
}

// TestPathSecret: only the path with the secret reaches the service; any
// other answers 404 like a path that does not exist, and emits nothing.
func TestPathSecret(t *testing.T) {
	const secret = "s3cr3t-0123456789abcdef"
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *Config) { c.HTTP.Get().PathSecret = secret })
	base, rows := contracttest.Report("system-s", 1, 2)
	require.True(t, strings.HasSuffix(u.httpURL, "/zitadel/ping/"+secret))

	withoutSecret := strings.TrimSuffix(u.httpURL, "/"+secret)
	for name, endpoint := range map[string]string{
		"missing":        withoutSecret,
		"wrong":          withoutSecret + "/s3cr3t-0123456789abcdeF",
		"prefix of it":   withoutSecret + "/" + secret[:len(secret)-1],
		"longer":         withoutSecret + "/" + secret + "x",
		"secret as path": withoutSecret + "/" + secret + "/" + secret,
	} {
		t.Run(name, func(t *testing.T) {
			err := (&servicepingclient.Client{Endpoint: endpoint, HTTP: u.client}).Report(context.Background(), base, rows, 10)
			var te *servicepingclient.TelemetryError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 404, te.StatusCode)
			assert.True(t, servicepingclient.Cancels(err))
			assert.NotContains(t, te.Body, secret)
			assert.Zero(t, sink.DataPointCount())
		})
	}
	t.Run("right", func(t *testing.T) {
		require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 10))
		contracttest.AssertEmitted(t, contracttest.Flatten(t, sink.AllMetrics()), base, rows, false)
	})
	t.Run("trailing slash in ZITADEL's endpoint", func(t *testing.T) {
		sink.Reset()
		require.NoError(t, (&servicepingclient.Client{Endpoint: u.httpURL + "/", HTTP: u.client}).Report(context.Background(), base, rows, 10))
		assert.Equal(t, len(rows)+len(base.Instances), sink.DataPointCount())
	})
}

// blockingConsumer holds every call until released.
type blockingConsumer struct {
	consumertest.MetricsSink
	arrived chan struct{}
	release chan struct{}
}

func (b *blockingConsumer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	b.arrived <- struct{}{}
	<-b.release
	return b.MetricsSink.ConsumeMetrics(ctx, md)
}

// TestShutdownFinishesThePageInFlight: a page that is being consumed when
// the collector stops is still taken and acknowledged.
func TestShutdownFinishesThePageInFlight(t *testing.T) {
	next := &blockingConsumer{arrived: make(chan struct{}), release: make(chan struct{})}
	u := startTelemetryReceiver(t, next, nil)
	_, rows := contracttest.Report("system-f", 1, 10)

	answered := make(chan error, 1)
	go func() {
		_, err := u.pingClient().ReportResourceCounts(context.Background(), pageOf("system-f", nil, rows...))
		answered <- err
	}()
	<-next.arrived
	stopped := make(chan error, 1)
	go func() { stopped <- u.r.Shutdown(context.Background()) }()
	select {
	case err := <-answered:
		t.Fatalf("the page was answered before the consumer took it: %v", err)
	case err := <-stopped:
		t.Fatalf("shutdown returned with a page in flight: %v", err)
	default:
	}
	close(next.release)
	require.NoError(t, <-answered)
	require.NoError(t, <-stopped)
	assert.Equal(t, len(rows), next.DataPointCount())
}

// TestReplicasAcceptEachOthersReports: the base information reaches one
// replica, a page another; with a shared key the page is taken, with each
// replica's own random key it is refused as not issued here.
func TestReplicasAcceptEachOthersReports(t *testing.T) {
	base, rows := contracttest.Report("system-r", 2, 5)
	for name, key := range map[string]string{"shared key": "a key the replicas share, 32 bytes or more", "own keys": ""} {
		t.Run(name, func(t *testing.T) {
			sinkA, sinkB := &consumertest.MetricsSink{}, &consumertest.MetricsSink{}
			withKey := func(c *Config) { c.ReportIDs.Key = configopaque.String(key) }
			a, b := startTelemetryReceiver(t, sinkA, withKey), startTelemetryReceiver(t, sinkB, withKey)
			id, err := a.pingClient().ReportBaseInformation(context.Background(), base)
			require.NoError(t, err)
			_, err = b.pingClient().ReportResourceCounts(context.Background(), pageOf(base.SystemId, proto.String(id), rows...))
			if key == "" {
				var te *servicepingclient.TelemetryError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, 412, te.StatusCode)
				assert.Zero(t, sinkB.DataPointCount())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, len(base.Instances), sinkA.DataPointCount())
			assert.Equal(t, len(rows), sinkB.DataPointCount())
		})
	}
}

// stalledConsumer takes nothing until its context ends, as a pipeline
// without a sending queue in front of an endpoint that never answers.
type stalledConsumer struct {
	consumertest.MetricsSink
	arrived chan struct{}
}

func (s *stalledConsumer) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	s.arrived <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestShutdownInterruptsAPageThePipelineNeverTakes: after the drain period
// the page's consumption is cancelled, its client is answered with a
// retryable status, and the log says so once.
func TestShutdownInterruptsAPageThePipelineNeverTakes(t *testing.T) {
	next := &stalledConsumer{arrived: make(chan struct{}, 1)}
	core, logs := observer.New(zapcore.InfoLevel)
	u := startTelemetryReceiver(t, next, nil)
	u.r.set.Logger = zap.New(core)
	u.r.handOffs.Drain = 50 * time.Millisecond
	_, rows := contracttest.Report("system-s", 1, 10)

	answered := make(chan error, 1)
	go func() {
		_, err := u.pingClient().ReportResourceCounts(context.Background(), pageOf("system-s", nil, rows...))
		answered <- err
	}()
	<-next.arrived
	testkit.StopsWithin(t, time.Minute, u.r.Shutdown, "shutdown waited for a pipeline that never takes the page")
	var te *servicepingclient.TelemetryError
	require.ErrorAs(t, <-answered, &te)
	assert.Equal(t, http.StatusServiceUnavailable, te.StatusCode, "retryable")
	require.Len(t, logs.FilterMessageSnippet("Shutdown interrupted 1 call(s)").All(), 1)
}
