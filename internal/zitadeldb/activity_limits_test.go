package zitadeldb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// TestDatabaseActivityNamesAtMostMaxApplicationsPerOrganization: the
// database source holds the login counter to
// activity::max_applications_per_organization as the api source does, and
// the warning names the key to raise.
func TestDatabaseActivityNamesAtMostMaxApplicationsPerOrganization(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	for i := range 5 {
		d.PushNow(t, login("i1", fmt.Sprint("s", i), "o1", fmt.Sprint(i, "@app")))
	}
	core, logs := observer.New(zap.WarnLevel)
	act := activity.NewDefaultConfig()
	act.Enabled, act.MaxApplicationsPerOrganization = true, 2
	s := startActivitySource(t, d, act, storageclienttest.Host{}, zap.New(core))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })

	rep := scrapeActivity(t, s, "i1")
	assert.Equal(t, map[string]uint64{"0@app": 1, "1@app": 1, activity.Other: 3}, activitytest.LoginsByApplication(rep))
	warned := logs.FilterMessageSnippet("activity::max_applications_per_organization").All()
	require.Len(t, warned, 1)
	assert.Equal(t, "o1", warned[0].ContextMap()["organization"])
}

// TestDatabaseActivityOfAnInstanceIDNotZitadelsIsRefused: an instance whose
// id ZITADEL cannot have issued is refused with its counts; its events are
// neither recorded nor kept in storage under that id, and the other
// instances' activity goes on.
func TestDatabaseActivityOfAnInstanceIDNotZitadelsIsRefused(t *testing.T) {
	const bad = "i2/../x"
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.AddInstance(t, bad, time.Now().Add(-time.Hour), "i2.example.com")
	d.PushNow(t, login("i1", "a", "o1", "app"), login(bad, "b", "o1", "app"))
	id, host := storageclienttest.FileStorage(t, t.TempDir())
	act := activity.NewDefaultConfig()
	act.Enabled, act.Storage = true, &id
	s := startActivitySource(t, d, act, host, zap.NewNop())

	rec := &activityRecording{Reports: activitytest.Reports{}}
	err := s.Scrape(t.Context(), rec)
	require.ErrorContains(t, err, "not an id", "the instance is refused with its counts")
	assert.Equal(t, uint64(1), activitytest.Logins(rec.Reports["i1"]))
	assert.NotContains(t, rec.Reports, bad)
	require.NoError(t, s.Shutdown(context.Background()))

	client, err := host[id].(storage.Extension).GetClient(t.Context(), component.KindReceiver, component.MustNewID("zitadel"), "activity")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close(context.Background())) })
	kept, err := client.Get(t.Context(), "instance/i1")
	require.NoError(t, err)
	assert.NotNil(t, kept)
	kept, err = client.Get(t.Context(), "instance/"+bad)
	require.NoError(t, err)
	assert.Nil(t, kept, "nothing is stored under an id that is not ZITADEL's")
}
