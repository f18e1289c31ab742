package telemetryclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

const pathSecret = "next-hop-path-secret-0123456789"

// TestErrorsNeverNameThePathSecret: an endpoint that carries a receiver's
// path secret, unreachable, refusing or redirecting, is named in errors
// without it.
func TestErrorsNeverNameThePathSecret(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer refusing.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect) // forever
	}))
	defer redirecting.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	unreachable := "http://" + l.Addr().String()
	l.Close()

	for name, base := range map[string]string{"refusing": refusing.URL, "redirecting": redirecting.URL, "unreachable": unreachable} {
		for _, style := range []PathStyle{PathsZITADEL, PathsConnect} {
			c := NewHTTP(&http.Client{}, base+"/zitadel/ping/"+pathSecret, style)
			_, err := c.ReportBaseInformation(context.Background(), &analytics.ReportBaseInformationRequest{SystemId: "s"})
			require.Error(t, err, name)
			assert.NotContains(t, err.Error(), pathSecret, name)
			if name != "refusing" { // an answer is named by its status
				assert.Contains(t, err.Error(), "/zitadel/ping/[redacted]/", name)
			}
			_, err = c.ReportResourceCounts(context.Background(), &analytics.ReportResourceCountsRequest{SystemId: "s"})
			require.Error(t, err, name)
			assert.NotContains(t, err.Error(), pathSecret, "%s: %s", name, err)
		}
	}
}
