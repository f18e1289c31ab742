package zitadelapi

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
)

// TestActivityRefusesAFarFutureDate has ZITADEL answer one event dated 2^62
// seconds after 1970 (beyond year 146,000,000,000). Kept, it would move the
// read position there: nothing newer would ever be read, and stored as
// UnixNano it would wrap to 1970, so a restart counts everything again.
func TestActivityRefusesAFarFutureDate(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	for i := range 5 {
		srv.Write(in.ID, now.Add(-time.Duration(10-i)*time.Minute), func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{UserID: "idp-user", Org: in.Orgs[0], ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthIdP}})
		})
	}
	srv.Write(in.ID, time.Unix(1<<62, 0), func(w *fakezitadel.Writer) {
		w.CheckPassword(in.Orgs[0], "someone", false)
	})

	id, host := storageclienttest.FileStorage(t, t.TempDir())
	cfg := activityConfig(srv)
	cfg.Activity.Storage = &id

	clk := &clock{t: now}
	first := startActivitySource(t, cfg, host, clk)
	rep, err := scrapeActivity(t, first)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), activitytest.Logins(rep))
	assert.Empty(t, checks(rep), "the check of an impossible date is not counted")

	// Running on, a new login is read: the position did not jump ahead.
	srv.Write(in.ID, now.Add(-time.Second), func(w *fakezitadel.Writer) {
		w.Login(fakezitadel.Login{UserID: "idp-user", Org: in.Orgs[0], ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthIdP}})
	})
	clk.t = now.Add(time.Minute)
	rep, err = scrapeActivity(t, first)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), activitytest.Logins(rep), "a login after the far-future event is read")
	require.NoError(t, first.Shutdown(context.Background()))

	// After a restart the stored position holds: nothing is counted twice.
	clk.t = now.Add(2 * time.Minute)
	second := startActivitySource(t, cfg, host, clk)
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	rep, err = scrapeActivity(t, second)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), activitytest.Logins(rep), "no login counted twice after the restart")
}
