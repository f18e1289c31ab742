package telemetryserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	require.NoError(t, s.Start("127.0.0.1:0", "127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

type httpAnswer struct {
	status int
	header http.Header
	body   string
}

func post(t *testing.T, url string, body []byte, header map[string]string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return httpAnswer{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	require.NoError(t, err)
	return b
}

func reportIDOf(t *testing.T, a httpAnswer) string {
	t.Helper()
	require.Equal(t, http.StatusOK, a.status, a.body)
	var resp analytics.ReportResourceCountsResponse
	require.NoError(t, protojson.Unmarshal([]byte(a.body), &resp))
	return resp.ReportId
}

var updated = timestamppb.New(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))

func row(instance, parent, resource string, amount uint32) *analytics.ResourceCount {
	return &analytics.ResourceCount{
		InstanceId: instance, ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		ParentId: parent, ResourceName: resource, TableName: "projections.users14", UpdatedAt: updated, Amount: amount,
	}
}

func base(system string) *analytics.ReportBaseInformationRequest {
	return &analytics.ReportBaseInformationRequest{SystemId: system, Version: "v4.1.0", Instances: []*analytics.InstanceInformation{
		{Id: "i1", Domains: []string{"acme.example.com"}, CreatedAt: updated},
	}}
}

func counts(system, reportID string, rows ...*analytics.ResourceCount) *analytics.ReportResourceCountsRequest {
	return &analytics.ReportResourceCountsRequest{SystemId: system, ReportId: &reportID, ResourceCounts: rows}
}

func TestZITADELWireReportAndDeduplication(t *testing.T) {
	s := startServer(t, Options{})
	endpoint := s.HTTPURL() + "/api/ping"

	id := reportIDOf(t, post(t, endpoint+"/instances", mustJSON(t, base("sys-1")), nil))
	require.NotEmpty(t, id)
	page := counts("sys-1", id, row("i1", "o1", "user", 5), row("i1", "o2", "user", 7))
	assert.Equal(t, id, reportIDOf(t, post(t, endpoint+"/resource_counts", mustJSON(t, page), nil)))
	// A client retry re-sends the page; a later observation updates a row.
	assert.Equal(t, id, reportIDOf(t, post(t, endpoint+"/resource_counts", mustJSON(t, page), nil)))
	later := row("i1", "o1", "user", 6)
	later.UpdatedAt = timestamppb.New(updated.AsTime().Add(time.Hour))
	assert.Equal(t, id, reportIDOf(t, post(t, endpoint+"/resource_counts", mustJSON(t, counts("sys-1", id, later)), nil)))
	// An older observation arriving late does not overwrite it.
	assert.Equal(t, id, reportIDOf(t, post(t, endpoint+"/resource_counts", mustJSON(t, counts("sys-1", id, row("i1", "o1", "user", 1))), nil)))

	snap, ok := s.Snapshot("sys-1")
	require.True(t, ok)
	assert.Equal(t, "v4.1.0", snap.Version)
	assert.Equal(t, 1, snap.Reports)
	require.Len(t, snap.Instances, 1)
	assert.Equal(t, []string{"acme.example.com"}, snap.Instances[0].Domains)
	require.Len(t, snap.Rows, 2)
	assert.Equal(t, "o1", snap.Rows[0].ParentId)
	assert.Equal(t, uint32(6), snap.Rows[0].Amount)
	assert.Equal(t, uint32(7), snap.Rows[1].Amount)

	reqs := s.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, MethodBase, reqs[0].Method)
	assert.Equal(t, TransportHTTP, reqs[0].Transport)
	assert.Equal(t, MethodCounts, reqs[1].Method)
	assert.Len(t, reqs[1].Counts.ResourceCounts, 2)
	assert.Equal(t, []string{"sys-1"}, s.Systems())
}

func TestConnectPaths(t *testing.T) {
	s := startServer(t, Options{})
	id := reportIDOf(t, post(t, s.HTTPURL()+"/zitadel.analytics.v2beta.TelemetryService/ReportBaseInformation", mustJSON(t, base("sys-1")), nil))
	a := post(t, s.HTTPURL()+"/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts",
		mustJSON(t, counts("sys-1", id, row("i1", "o1", "user", 5))), nil)
	assert.Equal(t, id, reportIDOf(t, a))
	assert.Equal(t, TransportConnect, s.Requests()[1].Transport)

	// Connect also carries binary protobuf.
	body, err := proto.Marshal(counts("sys-1", id, row("i1", "o2", "user", 1)))
	require.NoError(t, err)
	a = post(t, s.HTTPURL()+"/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts", body,
		map[string]string{"Content-Type": "application/proto"})
	require.Equal(t, http.StatusOK, a.status, a.body)
	var resp analytics.ReportResourceCountsResponse
	require.NoError(t, proto.Unmarshal([]byte(a.body), &resp))
	assert.Equal(t, id, resp.ReportId)
	snap, _ := s.Snapshot("sys-1")
	assert.Len(t, snap.Rows, 2)
}

func TestReportIDIsRefused(t *testing.T) {
	s := startServer(t, Options{})
	own := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	s.ExpireNext(1)
	expired := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))

	tests := map[string]*analytics.ReportResourceCountsRequest{
		"unknown": counts("sys-1", "no-such-report", row("i1", "o1", "user", 1)),
		"foreign": counts("sys-2", own, row("i1", "o1", "user", 1)),
		"expired": counts("sys-1", expired, row("i1", "o1", "user", 1)),
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			a := post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, req), nil)
			assert.Equal(t, http.StatusPreconditionFailed, a.status)
			assert.Contains(t, a.body, name)

			a = post(t, s.HTTPURL()+"/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts", mustJSON(t, req), nil)
			assert.Equal(t, http.StatusBadRequest, a.status)
			var ce struct{ Code, Message string }
			require.NoError(t, json.Unmarshal([]byte(a.body), &ce))
			assert.Equal(t, "failed_precondition", ce.Code)

			_, err := grpcClient(t, s).ReportResourceCounts(context.Background(), req)
			assert.Equal(t, codes.FailedPrecondition, status.Code(err))
		})
	}
	snap, _ := s.Snapshot("sys-1")
	assert.Empty(t, snap.Rows, "refused pages must not be stored")
}

func TestServerIssuesAReportIDWhenNoneIsSent(t *testing.T) {
	s := startServer(t, Options{})
	req := &analytics.ReportResourceCountsRequest{SystemId: "sys-1", ResourceCounts: []*analytics.ResourceCount{row("i1", "o1", "user", 1)}}
	assert.NotEmpty(t, reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, req), nil)))
}

func TestRotateReportIDs(t *testing.T) {
	s := startServer(t, Options{})
	s.RotateReportIDs(true)
	first := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	second := reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", first, row("i1", "o1", "user", 1))), nil))
	assert.NotEqual(t, first, second)
	a := post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", first, row("i1", "o2", "user", 1))), nil)
	assert.Equal(t, http.StatusPreconditionFailed, a.status, "the rotated-out id stays refused")
	reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", second, row("i1", "o2", "user", 1))), nil))
}

func grpcClient(t *testing.T, s *Server) analytics.TelemetryServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return analytics.NewTelemetryServiceClient(conn)
}

func TestGRPC(t *testing.T) {
	s := startServer(t, Options{})
	c := grpcClient(t, s)
	resp, err := c.ReportBaseInformation(context.Background(), base("sys-1"))
	require.NoError(t, err)
	got, err := c.ReportResourceCounts(context.Background(), counts("sys-1", resp.ReportId, row("i1", "o1", "user", 3)))
	require.NoError(t, err)
	assert.Equal(t, resp.ReportId, got.ReportId)
	snap, _ := s.Snapshot("sys-1")
	require.Len(t, snap.Rows, 1)
	assert.Equal(t, uint32(3), snap.Rows[0].Amount)
	assert.Equal(t, TransportGRPC, s.Requests()[0].Transport)
}

func TestFailuresAndRetryAfter(t *testing.T) {
	s := startServer(t, Options{})
	s.Fail(3, codes.Unavailable)
	s.SetRetryAfter(1500 * time.Millisecond)

	a := post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, "2", a.header.Get("Retry-After"), "rounded up to whole seconds")

	a = post(t, s.HTTPURL()+"/zitadel.analytics.v2beta.TelemetryService/ReportBaseInformation", mustJSON(t, base("sys-1")), nil)
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Contains(t, a.body, `"code":"unavailable"`)
	assert.Contains(t, a.body, `"type":"google.rpc.RetryInfo"`)

	_, err := grpcClient(t, s).ReportBaseInformation(context.Background(), base("sys-1"))
	st := status.Convert(err)
	assert.Equal(t, codes.Unavailable, st.Code())
	require.Len(t, st.Details(), 1)
	assert.Equal(t, 1500*time.Millisecond, st.Details()[0].(*errdetails.RetryInfo).RetryDelay.AsDuration())

	// The failures are used up.
	reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	codesSeen := []codes.Code{}
	for _, r := range s.Requests() {
		codesSeen = append(codesSeen, r.Code)
	}
	assert.Equal(t, []codes.Code{codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.OK}, codesSeen)
	assert.Equal(t, 4, s.Summary().Requests)
	assert.Equal(t, 3, s.Summary().FailedRequests)
}

func TestFailureStatusesOnZITADELWire(t *testing.T) {
	tests := map[codes.Code]int{
		codes.InvalidArgument:    400,
		codes.NotFound:           404,
		codes.AlreadyExists:      409,
		codes.FailedPrecondition: 412,
		codes.Unimplemented:      501,
		codes.ResourceExhausted:  429,
		codes.Unavailable:        503,
		codes.DeadlineExceeded:   504,
		codes.Internal:           500,
	}
	s := startServer(t, Options{})
	for code, want := range tests {
		s.Fail(1, code)
		assert.Equal(t, want, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil).status, code.String())
	}
}

func TestLatency(t *testing.T) {
	s := startServer(t, Options{})
	s.SetLatency(100 * time.Millisecond)
	start := time.Now()
	reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

func TestHTTPRefusals(t *testing.T) {
	s := startServer(t, Options{})
	assert.Equal(t, http.StatusNotFound, post(t, s.HTTPURL()+"/elsewhere", []byte("{}"), nil).status)
	assert.Equal(t, http.StatusBadRequest, post(t, s.HTTPURL()+"/instances", []byte("{not json"), nil).status)
	assert.Equal(t, http.StatusBadRequest, post(t, s.HTTPURL()+"/instances", []byte("{}"), nil).status, "systemId is required")
	assert.Equal(t, http.StatusBadRequest, post(t, s.HTTPURL()+"/instances", []byte("{}"), map[string]string{"Content-Encoding": "br"}).status)
	resp, err := http.Get(s.HTTPURL() + "/instances")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestGzipBody(t *testing.T) {
	s := startServer(t, Options{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(mustJSON(t, base("sys-1")))
	require.NoError(t, zw.Close())
	reportIDOf(t, post(t, s.HTTPURL()+"/instances", buf.Bytes(), map[string]string{"Content-Encoding": "gzip"}))
}

func TestDropRequestsKeepsState(t *testing.T) {
	s := startServer(t, Options{DropRequests: true})
	id := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", id, row("i1", "o1", "user", 1))), nil))
	assert.Empty(t, s.Requests())
	snap, _ := s.Snapshot("sys-1")
	assert.Len(t, snap.Rows, 1)
	s.Reset()
	assert.Empty(t, s.Systems())
}

func TestSummaryJSON(t *testing.T) {
	s := startServer(t, Options{})
	id := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", id,
		row("i1", "o1", "user", 5), row("i1", "o2", "user", 7), row("i1", "o1", "project", 2))), nil))
	out, err := s.SummaryJSON()
	require.NoError(t, err)
	var sum Summary
	require.NoError(t, json.Unmarshal(out, &sum))
	require.Len(t, sum.Systems, 1)
	sys := sum.Systems[0]
	assert.Equal(t, "sys-1", sys.SystemID)
	assert.Equal(t, 3, sys.Rows)
	assert.Equal(t, map[string]uint64{"user": 12, "project": 2}, sys.Totals)
	assert.Equal(t, "2025-06-01T12:00:00Z", sys.Instances[0].CreatedAt)
	assert.Contains(t, string(out), "\n  ", "indented for a terminal")
}

func TestForgetDropsOneSystem(t *testing.T) {
	s := startServer(t, Options{})
	for _, sys := range []string{"sys-1", "sys-2"} {
		id := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base(sys)), nil))
		reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts(sys, id, row("i1", "o1", "user", 5))), nil))
	}
	s.Forget("sys-1")
	_, ok := s.Snapshot("sys-1")
	assert.False(t, ok, "the forgotten system")
	snap, ok := s.Snapshot("sys-2")
	require.True(t, ok, "the other system")
	assert.Len(t, snap.Rows, 1)
	assert.Equal(t, 1, snap.Reports)

	// The next report of the forgotten system is counted from nothing.
	id := reportIDOf(t, post(t, s.HTTPURL()+"/instances", mustJSON(t, base("sys-1")), nil))
	reportIDOf(t, post(t, s.HTTPURL()+"/resource_counts", mustJSON(t, counts("sys-1", id, row("i1", "o2", "user", 7))), nil))
	snap, _ = s.Snapshot("sys-1")
	assert.Equal(t, 1, snap.Reports)
	require.Len(t, snap.Rows, 1)
	assert.Equal(t, "o2", snap.Rows[0].ParentId)
}
