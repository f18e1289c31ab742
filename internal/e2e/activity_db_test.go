package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// databaseActivityTemplate counts the activity from ZITADEL's database
// through README's view of the events, with storage.
var databaseActivityTemplate = template.Must(template.New("database-activity").Parse(`
receivers:
  zitadel:
    source: database
    collection_interval: 1h
    initial_delay: 0s
    resources: [organization]
    database:
      dsn: ${env:ZITADEL_E2E_DATABASE_DSN}
      events_table: ` + zitadeldb.EventsViewName + `
    activity:
      enabled: true
      storage: file_storage
extensions:
  file_storage:
    directory: {{.StorageDir}}
exporters:
  prometheus:
    endpoint: {{.PromAddr}}
service:
  extensions: [file_storage]
  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [prometheus]
`))

// TestDatabaseActivityAcrossARestart runs the built collector on the
// database source: it counts the logins, checks and lockouts ZITADEL's
// pushes wrote, and after a restart with storage only what came since.
func TestDatabaseActivityAcrossARestart(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, zitadeldb.EventsView())
	const instance = "314000000000000001"
	d.AddInstance(t, instance, time.Now().Add(-time.Hour), "login.example.com")
	login := func(n int, app string) zitadeldbtest.Event {
		return zitadeldbtest.Event{InstanceID: instance, AggregateType: "oidc_session", AggregateID: fmt.Sprint("V2_", n),
			Type: "oidc_session.added", Owner: "org-1", Payload: fmt.Sprintf(
				`{"userID":"user-%d","userResourceOwner":"org-1","sessionID":"s%d","clientID":%q,"authMethods":[4],"userAgent":{"ip":"203.0.113.7"}}`, n, n, app)}
	}
	d.PushNow(t, login(1, "web"), login(2, "web"), login(3, "cli"))
	d.PushNow(t, zitadeldbtest.Event{InstanceID: instance, AggregateType: "user", AggregateID: "user-9", Type: "user.human.password.check.failed", Owner: "org-1"},
		zitadeldbtest.Event{InstanceID: instance, AggregateType: "user", AggregateID: "user-9", Type: "user.locked", Owner: "org-1"})

	t.Setenv("ZITADEL_E2E_DATABASE_DSN", d.DSN)
	prom := freeAddr(t)
	path := filepath.Join(t.TempDir(), "database-activity.yaml")
	writeConfig(t, path, databaseActivityTemplate, struct{ StorageDir, PromAddr string }{t.TempDir(), prom})

	c := startCollector(t, collectorBinary(t), path)
	m := waitForOwnMetric(t, c, prom, "zitadel_logins_total", 3)
	expect(t, "logins of web", m.sum("zitadel_logins_total", `zitadel_application_id="web"`), 2)
	expect(t, "failed password checks", m.sum("zitadel_checks_total", `zitadel_check_outcome="failed"`), 1)
	expect(t, "lockouts", m.sum("zitadel_lockouts_total"), 1)
	require.NotContains(t, m.text, "203.0.113.7")
	require.NoError(t, c.terminate(15*time.Second))

	d.PushNow(t, login(4, "web"))
	c = startCollector(t, collectorBinary(t), path)
	m = waitForOwnMetric(t, c, prom, "zitadel_logins_total", 4)
	expect(t, "logins after the restart", m.sum("zitadel_logins_total"), 4)
	expect(t, "lockouts after the restart", m.sum("zitadel_lockouts_total"), 1)
	require.NoError(t, c.terminate(15*time.Second))
}
