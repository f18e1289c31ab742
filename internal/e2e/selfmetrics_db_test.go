package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// databaseSelfMetricsTemplate scrapes ZITADEL's database once, in pages
// smaller than its rows, with the collector's own metrics on.
var databaseSelfMetricsTemplate = template.Must(template.New("database").Parse(`
receivers:
  zitadel:
    source: database
    collection_interval: 1h
    initial_delay: 0s
    database:
      dsn: ${env:ZITADEL_E2E_DATABASE_DSN}
      page_size: 7
exporters:
  debug:
    verbosity: basic
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [debug]
`))

// TestDatabaseSourceCountsItsOwnWork seeds ZITADEL's tables in PostgreSQL,
// lets the built collector scrape them once, and checks the rows it counts
// as read and its one timed scrape against what the database holds.
func TestDatabaseSourceCountsItsOwnWork(t *testing.T) {
	d := zitadeldbtest.New(t)
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, id := range []string{"313000000000000001", "313000000000000002", "313000000000000003"} {
		d.AddInstance(t, id, created.AddDate(0, i, 0), "login-"+id+".example.com")
	}
	d.AddSystemEvent(t, "system.id.generated", `{"id": "e2e-database-system"}`)
	d.SetupRun(t, "v4.13.1")
	// ZITADEL's counting triggers turn these into resource_counts rows.
	d.Exec(t, `
		INSERT INTO projections.orgs1 (instance_id, id)
			SELECT '31300000000000000' || (i % 3 + 1), 'org-' || i FROM generate_series(1, 12) i;
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type)
			SELECT '31300000000000000' || (i % 3 + 1), 'org-' || (i % 12 + 1), 'user-' || i, i % 2 + 1 FROM generate_series(1, 60) i;
		INSERT INTO projections.projects4 (instance_id, resource_owner, id)
			SELECT '31300000000000000' || (i % 3 + 1), 'org-' || (i % 12 + 1), 'project-' || i FROM generate_series(1, 9) i;`)
	var seededCounts, seededInstances float64
	require.NoError(t, d.Conn.QueryRow(context.Background(), "SELECT count(*) FROM projections.resource_counts").Scan(&seededCounts))
	require.NoError(t, d.Conn.QueryRow(context.Background(), "SELECT count(*) FROM projections.instances").Scan(&seededInstances))
	require.Greater(t, seededCounts, float64(7), "fewer rows than a page: the keyset pages are not exercised")

	t.Setenv("ZITADEL_E2E_DATABASE_DSN", d.DSN)
	own, port := ownMetricsPort(t)
	path := filepath.Join(t.TempDir(), "database.yaml")
	writeConfig(t, path, databaseSelfMetricsTemplate, struct{ TelemetryPort string }{port})
	c := startCollector(t, collectorBinary(t), path)

	// The scrape is timed when it ends, after its rows were counted.
	m := waitForOwnMetric(t, c, own, "otelcol_zitadel_receiver_scrape_duration_count", 1, `source="database"`)
	expect(t, "resource_counts rows read", m.sum("otelcol_zitadel_receiver_database_rows", `query="resource_counts"`), seededCounts)
	expect(t, "instance rows read", m.sum("otelcol_zitadel_receiver_database_rows", `query="instances"`), seededInstances)
	expect(t, "scrapes timed", m.sum("otelcol_zitadel_receiver_scrape_duration_count", `source="database"`), 1)
	expect(t, "scrapes timed from the api", m.sum("otelcol_zitadel_receiver_scrape_duration_count", `source="api"`), 0)
	expect(t, "api calls", m.sum("otelcol_zitadel_receiver_api_calls"), 0)
	// Every row read is a data point, and each instance's rows are on its resource.
	expect(t, "accepted data points", m.sum("otelcol_receiver_accepted_metric_points", `receiver="zitadel"`), seededCounts)
	require.NoError(t, c.terminate(15*time.Second))
}
