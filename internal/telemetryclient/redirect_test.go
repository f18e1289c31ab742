package telemetryclient_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
)

// loopbackServer serves h over HTTP/1.1 and unencrypted HTTP/2 (what an
// insecure gRPC client speaks) on a loopback port.
func loopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// TestRedirectIsRefusedOnEveryWire: an endpoint that answers 307 or 302
// sends nothing to the Location, on any wire; the exporter reports a
// permanent error naming where it was sent, and counts nothing delivered.
func TestRedirectIsRefusedOnEveryWire(t *testing.T) {
	var elsewhere atomic.Int64
	target := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"reportId":"stolen"}`))
	}))
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusFound} {
		redirecting := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+target+"/collect"+r.URL.Path, code)
		}))
		conn, err := grpc.NewClient(redirecting, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		wires := map[string]telemetryclient.Client{
			"http":    telemetryclient.NewHTTP(&http.Client{}, "http://"+redirecting+"/api/ping", telemetryclient.PathsZITADEL),
			"connect": telemetryclient.NewHTTP(&http.Client{}, "http://"+redirecting, telemetryclient.PathsConnect),
			"grpc":    telemetryclient.NewGRPC(conn),
		}
		for wire, c := range wires {
			_, err := c.ReportBaseInformation(context.Background(), &analytics.ReportBaseInformationRequest{SystemId: "s"})
			require.Error(t, err, "%s %d", wire, code)
			assert.True(t, consumererror.IsPermanent(err), "%s %d: %v", wire, code, err)
			var re *telemetryclient.RedirectError
			require.ErrorAs(t, err, &re, "%s %d: %v", wire, code, err)
			assert.Equal(t, code, re.HTTPStatus)
			if wire != "grpc" { // grpc-go does not pass the Location on
				assert.Contains(t, err.Error(), target+"/collect/", wire)
			}
			_, err = c.ReportResourceCounts(context.Background(), &analytics.ReportResourceCountsRequest{
				SystemId:       "s",
				ResourceCounts: []*analytics.ResourceCount{{InstanceId: "i", ParentId: "o", ResourceName: "user", Amount: 1}},
			})
			assert.True(t, consumererror.IsPermanent(err), "%s %d: %v", wire, code, err)
			require.NoError(t, c.Close())
		}
	}
	assert.Zero(t, elsewhere.Load(), "the redirect's target received calls")
}

// The configured client is the caller's: refusing redirects changes only
// the exporter's copy.
func TestNewHTTPLeavesTheGivenClientAlone(t *testing.T) {
	given := &http.Client{}
	_ = telemetryclient.NewHTTP(given, "http://127.0.0.1:1", telemetryclient.PathsZITADEL)
	assert.Nil(t, given.CheckRedirect)
}
