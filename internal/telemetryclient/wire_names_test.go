package telemetryclient_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/wirespec"
)

// pathRecorder answers every call with a report id and keeps the path it
// was addressed at, whatever the path: it knows no method names of its own.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) add(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, path)
}

func (p *pathRecorder) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.add(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"reportId":"r-1"}`))
}

// grpcAnswer reads any request and answers report_id = 1, the field both
// responses have.
func (p *pathRecorder) grpcAnswer(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	p.add(method)
	if err := stream.RecvMsg(&emptypb.Empty{}); err != nil {
		return err
	}
	return stream.SendMsg(&analytics.ReportResourceCountsResponse{ReportId: "r-1"})
}

// The client addresses what ZITADEL's own client and the official
// descriptors say, checked against an endpoint that accepts any path.
func TestClientAddressesZITADELsPathsAndTheOfficialMethods(t *testing.T) {
	files, err := wirespec.ReadDescriptors("../../testdata/" + wirespec.SetFile)
	require.NoError(t, err)
	official, err := wirespec.MethodPaths(files, wirespec.TelemetryService)
	require.NoError(t, err)

	rec := &pathRecorder{}
	httpServer := httptest.NewServer(rec)
	t.Cleanup(httpServer.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	grpcServer := grpc.NewServer(grpc.UnknownServiceHandler(rec.grpcAnswer))
	go func() { _ = grpcServer.Serve(ln) }()
	t.Cleanup(grpcServer.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)

	tests := []struct {
		name   string
		client telemetryclient.Client
		want   []string
	}{
		{
			"http", telemetryclient.NewHTTP(&http.Client{}, httpServer.URL+"/api/ping", telemetryclient.PathsZITADEL),
			[]string{"/api/ping" + wirespec.ZITADELPathInstances, "/api/ping" + wirespec.ZITADELPathResourceCounts},
		},
		{
			"connect", telemetryclient.NewHTTP(&http.Client{}, httpServer.URL, telemetryclient.PathsConnect),
			[]string{official["ReportBaseInformation"], official["ReportResourceCounts"]},
		},
		{
			"grpc", telemetryclient.NewGRPC(conn),
			[]string{official["ReportBaseInformation"], official["ReportResourceCounts"]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() { require.NoError(t, tt.client.Close()) }()
			before := len(rec.got())
			base, err := tt.client.ReportBaseInformation(context.Background(), &analytics.ReportBaseInformationRequest{SystemId: "sys-1"})
			require.NoError(t, err)
			id := base.GetReportId()
			_, err = tt.client.ReportResourceCounts(context.Background(), &analytics.ReportResourceCountsRequest{SystemId: "sys-1", ReportId: &id})
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.got()[before:])
		})
	}
}
