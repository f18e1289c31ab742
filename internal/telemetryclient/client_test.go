package telemetryclient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// clients returns one client per transport, all talking to s.
func clients(t *testing.T, s *telemetryserver.Server) map[string]telemetryclient.Client {
	t.Helper()
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	out := map[string]telemetryclient.Client{
		// A trailing slash on the endpoint must not double the separator.
		telemetryserver.TransportHTTP:    telemetryclient.NewHTTP(&http.Client{}, s.HTTPURL()+"/api/ping/", telemetryclient.PathsZITADEL),
		telemetryserver.TransportConnect: telemetryclient.NewHTTP(&http.Client{}, s.HTTPURL(), telemetryclient.PathsConnect),
		telemetryserver.TransportGRPC:    telemetryclient.NewGRPC(conn),
	}
	t.Cleanup(func() {
		for _, c := range out {
			require.NoError(t, c.Close())
		}
	})
	return out
}

func TestEveryTransportSpeaksTheSameContract(t *testing.T) {
	s := telemetryserver.New(telemetryserver.Options{})
	require.NoError(t, s.Start("127.0.0.1:0", "127.0.0.1:0"))
	defer s.Close()

	for transport, c := range clients(t, s) {
		t.Run(transport, func(t *testing.T) {
			s.Reset()
			ctx := context.Background()
			base, err := c.ReportBaseInformation(ctx, &analytics.ReportBaseInformationRequest{
				SystemId: "sys-1", Version: "v4",
				Instances: []*analytics.InstanceInformation{{Id: "i1", Domains: []string{"a.example.com"}}},
			})
			require.NoError(t, err)
			require.NotEmpty(t, base.ReportId)
			id := base.ReportId
			page, err := c.ReportResourceCounts(ctx, &analytics.ReportResourceCountsRequest{
				SystemId: "sys-1", ReportId: &id,
				ResourceCounts: []*analytics.ResourceCount{{InstanceId: "i1", ParentId: "o1", ResourceName: "user", Amount: 3}},
			})
			require.NoError(t, err)
			assert.Equal(t, id, page.ReportId)

			reqs := s.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, transport, reqs[0].Transport)
			assert.Equal(t, telemetryserver.MethodBase, reqs[0].Method)
			assert.Equal(t, telemetryserver.MethodCounts, reqs[1].Method)

			// An id the server never issued: FAILED_PRECONDITION on every wire.
			unknown := "no-such-report"
			_, err = c.ReportResourceCounts(ctx, &analytics.ReportResourceCountsRequest{SystemId: "sys-1", ReportId: &unknown})
			assert.True(t, telemetryclient.IsReportExpired(err), "%v", err)
			assert.True(t, consumererror.IsPermanent(err))

			s.Fail(1, codes.Unavailable)
			_, err = c.ReportBaseInformation(ctx, &analytics.ReportBaseInformationRequest{SystemId: "sys-1"})
			assert.Equal(t, codes.Unavailable, telemetryclient.CodeOf(err))
			assert.False(t, consumererror.IsPermanent(err))
			assert.Contains(t, err.Error(), "telemetry endpoint answered")
		})
	}
}

// A connection that could not be made is no answer: the message says so on
// every wire, and the error carries no code of the endpoint's.
func TestTransportFailureIsRetryable(t *testing.T) {
	s := telemetryserver.New(telemetryserver.Options{})
	require.NoError(t, s.Start("127.0.0.1:0", "127.0.0.1:0"))
	cs := clients(t, s)
	require.NoError(t, s.Close())
	for transport, c := range cs {
		_, err := c.ReportBaseInformation(context.Background(), &analytics.ReportBaseInformationRequest{SystemId: "sys-1"})
		require.Error(t, err, transport)
		assert.False(t, consumererror.IsPermanent(err), "%s: %v", transport, err)
		assert.NotContains(t, err.Error(), "answered UNAVAILABLE", transport)
		assert.Contains(t, err.Error(), "connection refused", transport)
		assert.Equal(t, codes.Unknown, telemetryclient.CodeOf(err), "%s: %v", transport, err)
	}
}
