package zitadeltelemetryreceiver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

// The wire is held against what ZITADEL and its SDKs send, not against the
// receiver's own constants: ZITADEL's paths are literals here, and the
// Connect and gRPC method names come from the official descriptors.

const (
	zitadelInstancesPath = "/instances"
	zitadelCountsPath    = "/resource_counts"
)

// officialMethods returns the full method names of the TelemetryService, as
// /package.Service/Method, from @zitadel/proto's descriptors.
func officialMethods(t testing.TB) (base, counts string) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/zitadel-proto-1.3.1.binpb")
	require.NoError(t, err)
	set := &descriptorpb.FileDescriptorSet{}
	require.NoError(t, proto.Unmarshal(raw, set))
	for _, f := range set.File {
		for _, svc := range f.Service {
			if f.GetPackage()+"."+svc.GetName() != "zitadel.analytics.v2beta.TelemetryService" {
				continue
			}
			for _, m := range svc.Method {
				full := "/" + f.GetPackage() + "." + svc.GetName() + "/" + m.GetName()
				switch {
				case strings.HasSuffix(m.GetInputType(), ".ReportBaseInformationRequest"):
					base = full
				case strings.HasSuffix(m.GetInputType(), ".ReportResourceCountsRequest"):
					counts = full
				}
			}
		}
	}
	require.NotEmpty(t, base, "no ReportBaseInformation in the official descriptors")
	require.NotEmpty(t, counts, "no ReportResourceCounts in the official descriptors")
	return base, counts
}

// wireResult is what a call came back with on any wire: the HTTP status (0
// for gRPC), the gRPC or Connect code name, the report id on success, and
// the error text.
type wireResult struct {
	httpStatus int
	code       string
	reportID   string
	message    string
}

// wireClient sends one call on one wire.
type wireClient interface {
	// send sends msg, or raw when it is not nil (a body msg cannot express).
	send(t testing.TB, counts bool, msg proto.Message, raw []byte) wireResult
}

// zitadelWire is ZITADEL's own client: protojson, application/json only.
type zitadelWire struct {
	endpoint string
	client   *http.Client
}

func (z zitadelWire) send(t testing.TB, counts bool, msg proto.Message, raw []byte) wireResult {
	path := zitadelInstancesPath
	if counts {
		path = zitadelCountsPath
	}
	if raw == nil {
		var err error
		raw, err = protojson.Marshal(msg)
		require.NoError(t, err)
	}
	return postHTTP(t, z.client, z.endpoint+path, "application/json", raw, false)
}

// connectWire is the Connect unary protocol the SDKs speak.
type connectWire struct {
	endpoint     string
	client       *http.Client
	base, counts string
	binary       bool
}

func (c connectWire) send(t testing.TB, counts bool, msg proto.Message, raw []byte) wireResult {
	path := c.base
	if counts {
		path = c.counts
	}
	contentType := "application/json"
	if c.binary {
		contentType = "application/proto"
	}
	if raw == nil {
		var err error
		if c.binary {
			raw, err = proto.Marshal(msg)
		} else {
			raw, err = protojson.Marshal(msg)
		}
		require.NoError(t, err)
	}
	return postHTTP(t, c.client, c.endpoint+path, contentType, raw, true)
}

func postHTTP(t testing.TB, client *http.Client, url, contentType string, body []byte, connect bool) wireResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := wireResult{httpStatus: res.StatusCode, message: string(answer)}
	switch {
	case res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "application/proto"):
		resp := &analytics.ReportResourceCountsResponse{}
		require.NoError(t, proto.Unmarshal(answer, resp))
		out.reportID, out.code = resp.ReportId, "ok"
	case res.StatusCode == http.StatusOK:
		resp := &analytics.ReportResourceCountsResponse{}
		require.NoError(t, protojson.Unmarshal(answer, resp), "a 200 body protojson cannot read: %q", answer)
		out.reportID, out.code = resp.ReportId, "ok"
	case connect && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json"):
		var e struct{ Code, Message string }
		require.NoError(t, json.Unmarshal(answer, &e))
		out.code, out.message = e.Code, e.Message
	}
	return out
}

// grpcWire calls the service by its official full method names.
type grpcWire struct {
	conn         *grpc.ClientConn
	base, counts string
}

// rawBody is a message sent as the bytes it is.
type rawBody []byte

type rawCodec struct{ encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if raw, ok := v.(*rawBody); ok {
		return mem.BufferSlice{mem.SliceBuffer(*raw)}, nil
	}
	return c.CodecV2.Marshal(v)
}

func (g grpcWire) send(_ testing.TB, counts bool, msg proto.Message, raw []byte) wireResult {
	method := g.base
	if counts {
		method = g.counts
	}
	var req any = msg
	if raw != nil {
		r := rawBody(raw)
		req = &r
	}
	resp := &analytics.ReportResourceCountsResponse{}
	err := g.conn.Invoke(context.Background(), method, req, resp,
		grpc.ForceCodecV2(rawCodec{CodecV2: encoding.GetCodecV2("proto")}))
	st := status.Convert(err)
	return wireResult{code: snakeCase(st.Code().String()), reportID: resp.ReportId, message: st.Message()}
}

// snakeCase spells a gRPC code as Connect does: InvalidArgument is
// invalid_argument.
func snakeCase(s string) string {
	if s == "OK" {
		return "ok"
	}
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// testClock is a clock the test moves.
type testClock struct{ nanos atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.nanos.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *testClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// receiverUnderTest is a receiver built by the factory, listening on
// loopback.
type receiverUnderTest struct {
	r        *telemetryReceiver
	tel      *componenttest.Telemetry // the receiver's own metrics
	clock    *testClock
	httpURL  string // base URL including the path
	grpcAddr string
	client   *http.Client
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func startTelemetryReceiver(t testing.TB, next consumer.Metrics, configure func(*Config)) *receiverUnderTest {
	t.Helper()
	return startTelemetryReceiverOn(t, componenttest.NewNopHost(), next, configure)
}

// startTelemetryReceiverOn starts the receiver on a host, whose extensions
// the server settings may name.
func startTelemetryReceiverOn(t testing.TB, host component.Host, next consumer.Metrics, configure func(*Config)) *receiverUnderTest {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	httpAddr, grpcAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	cfg.HTTP.Get().NetAddr.Endpoint = httpAddr
	cfg.GRPC.GetOrInsertDefault().NetAddr.Endpoint = grpcAddr
	if configure != nil {
		configure(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	f := NewFactory()
	rcv, err := f.CreateMetrics(context.Background(), set, cfg, next)
	require.NoError(t, err)
	u := &receiverUnderTest{
		r: rcv.(*telemetryReceiver), tel: tel, grpcAddr: grpcAddr, clock: newTestClock(time.Now()),
		client: &http.Client{Transport: &http.Transport{}},
	}
	u.r.now = u.clock.Now
	require.NoError(t, rcv.Start(context.Background(), host))
	if h := cfg.HTTP.Get(); h != nil {
		scheme := "http://"
		if h.TLS.HasValue() {
			scheme = "https://"
		}
		u.httpURL = scheme + httpAddr + h.Path
		if h.PathSecret != "" {
			u.httpURL += "/" + string(h.PathSecret)
		}
	}
	t.Cleanup(func() {
		u.client.CloseIdleConnections()
		require.NoError(t, rcv.Shutdown(context.Background()))
	})
	return u
}

// wires returns a client of every wire the receiver serves.
func (u *receiverUnderTest) wires(t testing.TB) map[string]wireClient {
	t.Helper()
	return u.wiresWith(t, u.client, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// wiresWith returns a client of every wire, sending HTTP calls with client
// and dialling gRPC with opts.
func (u *receiverUnderTest) wiresWith(t testing.TB, client *http.Client, opts ...grpc.DialOption) map[string]wireClient {
	t.Helper()
	base, counts := officialMethods(t)
	conn, err := grpc.NewClient(u.grpcAddr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return map[string]wireClient{
		"zitadel":       zitadelWire{endpoint: u.httpURL, client: client},
		"connect+json":  connectWire{endpoint: u.httpURL, client: client, base: base, counts: counts},
		"connect+proto": connectWire{endpoint: u.httpURL, client: client, base: base, counts: counts, binary: true},
		"grpc":          grpcWire{conn: conn, base: base, counts: counts},
	}
}

func (u *receiverUnderTest) pingClient() *servicepingclient.Client {
	return &servicepingclient.Client{Endpoint: u.httpURL, HTTP: u.client}
}
