package zitadeldb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// activityRecording keeps the activity a scrape records besides the counts.
type activityRecording struct {
	recording
	activitytest.Reports
}

func startActivitySource(t *testing.T, d *zitadeldbtest.DB, act activity.Config, host component.Host, logger *zap.Logger) *source {
	t.Helper()
	set := componenttest.NewNopTelemetrySettings()
	set.Logger = logger
	s := NewSource(dbConfig(d), act, model.NewResourceFilter([]string{model.ResourceOrganization}), set, ownMetrics(t, set)).(*source)
	s.SetStorageOwner(component.MustNewID("zitadel"))
	require.NoError(t, s.Start(t.Context(), host))
	return s
}

func scrapeActivity(t *testing.T, s *source, instance string) activity.Report {
	t.Helper()
	rec := &activityRecording{Reports: activitytest.Reports{}}
	require.NoError(t, s.Scrape(t.Context(), rec))
	return rec.Reports[instance]
}

func TestDatabaseActivitySurvivesARestartWithStorage(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	for i := range 5 {
		d.PushNow(t, login("i1", fmt.Sprint("s", i), "o1", "app"), passwordCheck("i1", "u1", "o1"))
	}
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "milestone", AggregateID: "i1", Type: "milestone.reached",
		Owner: "i1", Payload: `{"type": 2, "reachedDate": "2026-03-01T10:00:00.5Z"}`,
	})
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "milestone", AggregateID: "i1", Type: "milestone.reached",
		Owner: "i1", Payload: `{"type": "no_such_milestone", "reachedDate": "2026-03-01T10:00:00Z"}`,
	})
	id, host := storageclienttest.FileStorage(t, t.TempDir())
	act := activity.NewDefaultConfig()
	act.Enabled, act.Storage = true, &id

	first := startActivitySource(t, d, act, host, zap.NewNop())
	rep := scrapeActivity(t, first, "i1")
	assert.Equal(t, uint64(5), activitytest.Logins(rep))
	assert.Equal(t, []activity.Check{{CheckKey: activity.CheckKey{Organization: "o1", Factor: "password", Outcome: "succeeded"}, Count: 5}}, rep.Checks)
	assert.Equal(t, []activity.Milestone{{
		Type:      "authentication_succeeded_on_instance",
		ReachedAt: time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC),
	}}, rep.Milestones, "the numbered form of older releases; unknown types left out")
	n, _ := activeOf(rep, activity.UserHuman, "1d")
	assert.Equal(t, uint64(5), n)
	require.NoError(t, first.Shutdown(context.Background()))

	d.PushNow(t, login("i1", "s-after", "o1", "app"))
	second := startActivitySource(t, d, act, host, zap.NewNop())
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	rep = scrapeActivity(t, second, "i1")
	assert.Equal(t, uint64(6), activitytest.Logins(rep), "none lost, none counted twice")
	rep = scrapeActivity(t, second, "i1")
	assert.Equal(t, uint64(6), activitytest.Logins(rep), "nothing new")
}

func activeOf(r activity.Report, userType, window string) (uint64, bool) {
	for _, a := range r.Active {
		if a.ParentType == activity.ParentInstance && a.UserType == userType && a.Window == window {
			return a.Users, true
		}
	}
	return 0, false
}

func TestDatabaseActivityLeavesOutImpossibleDates(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.PushNow(t, login("i1", "a", "o1", "app"))
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: "i1", AggregateType: "user", AggregateID: "u9", Type: "user.human.password.check.failed",
		Owner: "o1", CreatedAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	d.PushNow(t, login("i1", "b", "o1", "app"))
	core, logs := observer.New(zap.WarnLevel)
	act := activity.NewDefaultConfig()
	act.Enabled = true
	s := startActivitySource(t, d, act, componenttest.NewNopHost(), zap.New(core))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	rep := scrapeActivity(t, s, "i1")
	assert.Equal(t, uint64(2), activitytest.Logins(rep))
	assert.Empty(t, rep.Checks)
	require.Equal(t, 1, logs.FilterMessageSnippet("creation date").Len())
}

func TestDatabaseActivityNeedsTheEventsTable(t *testing.T) {
	d := zitadeldbtest.New(t)
	cfg := dbConfig(d)
	cfg.EventsTable = ""
	act := activity.NewDefaultConfig()
	act.Enabled = true
	s := NewSource(cfg, act, nil, componenttest.NewNopTelemetrySettings(), ownMetrics(t, componenttest.NewNopTelemetrySettings()))
	err := s.Start(t.Context(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "database::events_table")
	require.NoError(t, s.Shutdown(context.Background()))
}

// A receiver whose source changed from api to database over the same
// storage finds the api source's read position: it says so and counts again
// from the look-back, instead of failing every scrape.
func TestDatabaseActivityStartsAgainOnAnotherSourcesPosition(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.PushNow(t, login("i1", "a", "o1", "app"), login("i1", "b", "o1", "app"))
	id, host := storageclienttest.FileStorage(t, t.TempDir())
	client, err := host[id].(storage.Extension).GetClient(t.Context(), component.KindReceiver, component.MustNewID("zitadel"), "activity")
	require.NoError(t, err)
	fromAPI := activity.NewInstance(time.Now().Add(-time.Hour), false)
	fromAPI.Position.Cursor = zitadelevent.NewDateCursor(time.Now().Add(-time.Minute)).Encode()
	require.NoError(t, client.Set(t.Context(), "instance/i1", fromAPI.Marshal()))
	require.NoError(t, client.Close(t.Context()))

	core, logs := observer.New(zap.WarnLevel)
	act := activity.NewDefaultConfig()
	act.Enabled, act.Storage = true, &id
	s := startActivitySource(t, d, act, host, zap.New(core))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	rec := &activityRecording{Reports: activitytest.Reports{}}
	require.NoError(t, s.Scrape(t.Context(), rec))
	assert.Equal(t, uint64(2), activitytest.Logins(rec.Reports["i1"]))
	assert.Equal(t, 1, logs.FilterMessageSnippet("the receiver's source changed").Len())
}

// A table with many milestone rows of one instance, repeated or of types
// ZITADEL does not have, reads a bounded number of them and does not push
// another instance's milestones out.
func TestMilestonesOfOneInstanceDoNotPushOutAnothers(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now().Add(-time.Hour), "i1.example.com")
	d.AddInstance(t, "i2", time.Now().Add(-time.Hour), "i2.example.com")
	milestone := func(instance, typ string) zitadeldbtest.Event {
		return zitadeldbtest.Event{
			InstanceID: instance, AggregateType: "milestone", AggregateID: instance, Type: "milestone.reached",
			Owner: instance, Payload: `{"type": "` + typ + `", "reachedDate": "2026-03-01T10:00:00Z"}`,
		}
	}
	var junk []zitadeldbtest.Event
	for i := range 40 {
		junk = append(junk, milestone("i1", fmt.Sprint("made_up_", i)), milestone("i1", "project_created"))
	}
	d.PushNow(t, junk...)
	d.PushNow(t, milestone("i1", "application_created"))
	d.PushNow(t, milestone("i2", "instance_created"))
	act := activity.NewDefaultConfig()
	act.Enabled = true
	s := startActivitySource(t, d, act, componenttest.NewNopHost(), zap.NewNop())
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })

	got, rows, err := s.readMilestones(t.Context(), []string{"i1", "i2"})
	require.NoError(t, err)
	assert.Equal(t, 3, rows, "rows read: i1's first project_created and application_created, i2's instance_created")
	assert.ElementsMatch(t, []string{"project_created", "application_created"}, milestoneTypes(got["i1"]))
	assert.Equal(t, []string{"instance_created"}, milestoneTypes(got["i2"]))
}

func milestoneTypes(ms []activity.Milestone) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Type)
	}
	return out
}
