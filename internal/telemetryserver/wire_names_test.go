package telemetryserver

import (
	"context"
	"go/build"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/wirespec"
)

// The reference endpoint takes no wire name from the client it checks: a
// wrong path or code name there would otherwise be mirrored here and every
// test would pass.
func TestEndpointDependsOnNothingOfTheClient(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	for _, imp := range pkg.Imports {
		assert.NotContains(t, imp, "/internal/telemetryclient", "the reference endpoint imports %s", imp)
	}
}

// officialPaths are the TelemetryService's methods as ZITADEL's official
// descriptors name them.
func officialPaths(t *testing.T) map[string]string {
	t.Helper()
	files, err := wirespec.ReadDescriptors("../../testdata/" + wirespec.SetFile)
	require.NoError(t, err)
	paths, err := wirespec.MethodPaths(files, wirespec.TelemetryService)
	require.NoError(t, err)
	require.Len(t, paths, 2, "ReportBaseInformation and ReportResourceCounts")
	return paths
}

// Every wire is answered where ZITADEL's client and the official descriptors
// say it is: ZITADEL appends /instances and /resource_counts to its endpoint;
// gRPC and Connect address /<package>.<Service>/<Method>.
func TestEndpointAnswersAtTheOfficialPaths(t *testing.T) {
	s := startServer(t, Options{})
	paths := officialPaths(t)
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })

	call := func(transport, method string, req proto.Message) string {
		var id string
		switch transport {
		case TransportHTTP:
			literal := map[string]string{"ReportBaseInformation": wirespec.ZITADELPathInstances, "ReportResourceCounts": wirespec.ZITADELPathResourceCounts}
			id = reportIDOf(t, post(t, s.HTTPURL()+"/api/ping"+literal[method], mustJSON(t, req), nil))
		case TransportConnect:
			id = reportIDOf(t, post(t, s.HTTPURL()+paths[method], mustJSON(t, req), nil))
		case TransportGRPC:
			resp := &analytics.ReportResourceCountsResponse{} // both responses are report_id = 1
			require.NoError(t, conn.Invoke(context.Background(), paths[method], req, resp))
			id = resp.GetReportId()
		}
		got := s.Requests()
		require.NotEmpty(t, got)
		last := got[len(got)-1]
		assert.Equal(t, transport, last.Transport)
		assert.Equal(t, method, last.Method)
		return id
	}
	for _, transport := range []string{TransportHTTP, TransportConnect, TransportGRPC} {
		t.Run(transport, func(t *testing.T) {
			s.Reset()
			id := call(transport, "ReportBaseInformation", base("sys-1"))
			require.NotEmpty(t, id)
			assert.Equal(t, id, call(transport, "ReportResourceCounts", counts("sys-1", id, row("i1", "o1", "user", 2))))
		})
	}

	// A path of another version of the service is not this one.
	wrong := strings.Replace(paths["ReportBaseInformation"], ".v2beta.", ".v2.", 1)
	assert.Equal(t, http.StatusNotFound, post(t, s.HTTPURL()+wrong, mustJSON(t, base("sys-1")), nil).status)
}

// Connect errors carry the protocol's own code names and HTTP statuses.
func TestConnectErrorsUseTheProtocolsNames(t *testing.T) {
	s := startServer(t, Options{})
	path := officialPaths(t)["ReportBaseInformation"]
	for _, c := range wirespec.ConnectCodes {
		s.Fail(1, c.Code)
		a := post(t, s.HTTPURL()+path, mustJSON(t, base("sys-1")), nil)
		assert.Equal(t, c.HTTPStatus, a.status, c.Name)
		assert.Contains(t, a.body, `"code":"`+c.Name+`"`)
	}
}
