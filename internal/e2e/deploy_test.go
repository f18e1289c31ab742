package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// The Secrets' values, as deploy/README.md creates them.
const (
	deployPathSecret = "7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e8b4d6a0f3c9e7b1d"
	deployReportKey  = "q3Zl0t3Vb8nJ1mXy5pRk7wHc2sFa9dGe4uTi6oLz0bNv8xQm1yCr5jKh3gWf7eDs"
)

// TestShippedScraperReportsToShippedCentral runs the configurations
// deploy/kubernetes ships, as they are but for the addresses a cluster gives
// them: the collector beside ZITADEL (api source, a service user's token, the
// instance by its domain, the activity) scrapes a simulated ZITADEL and
// exposes counts and logins, then, stopped and started again on its volume,
// reports to the central collector, which exposes the counts.
func TestShippedScraperReportsToShippedCentral(t *testing.T) {
	dir := t.TempDir()
	const token = "deploy-service-user-token"
	zitadel, _ := startZitadel(t, dir, 3, fakezitadel.Options{PATs: map[string]string{token: ""}})
	ds := zitadel.Dataset()
	instance := ds.Instances[0]
	activity := zitadel.WriteSampleActivity(instance.ID, time.Now().UTC())
	t.Setenv("ZITADEL_TOKEN", token)
	t.Setenv("ZITADEL_DOMAIN", instance.PrimaryDomain())

	want := 0
	for k := range expectedRows(ds) {
		if k.instance == instance.ID {
			want++
		}
	}
	logins := 0
	for _, n := range activity.Logins {
		logins += n
	}
	inInstance := fmt.Sprintf(`zitadel_instance_id="%s"`, instance.ID)
	runShippedPair(t, dir, "api", func(scraper map[string]any) {
		set(t, scraper, zitadel.GRPCAddr(), "receivers", "zitadel", "api", "endpoint")
	}, func(m exposition) bool {
		return m.count("zitadel_resource_count", inInstance) >= want && m.sum("zitadel_logins_total", inInstance) == float64(logins)
	}, func(m exposition) bool {
		return m.count("zitadel_resource_count", inInstance) == want
	})
}

// TestShippedDatabaseScraperReportsToShippedCentral is the same for the
// database source, with the read-only role and grants of the receiver's
// README in a PostgreSQL holding ZITADEL's tables.
func TestShippedDatabaseScraperReportsToShippedCentral(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "314000000000000001", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), "login.example.com")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "deploy-database-system"}`)
	d.SetupRun(t, "v4.13.1")
	d.Exec(t, `
		INSERT INTO projections.orgs1 (instance_id, id) SELECT '314000000000000001', 'org-' || i FROM generate_series(1, 4) i;
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type)
			SELECT '314000000000000001', 'org-' || (i % 4 + 1), 'user-' || i, i % 2 + 1 FROM generate_series(1, 20) i;`)
	var rows int
	require.NoError(t, d.Conn.QueryRow(t.Context(), "SELECT count(*) FROM projections.resource_counts").Scan(&rows))
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	t.Setenv("ZITADEL_DB_DSN", role.DSN(d.DSN))

	inSystem := `zitadel_system_id="deploy-database-system"`
	runShippedPair(t, t.TempDir(), "database", func(map[string]any) {}, func(m exposition) bool {
		return m.count("zitadel_resource_count", inSystem) == rows
	}, func(m exposition) bool {
		return m.count("zitadel_resource_count", inSystem) == rows
	})
}

// runShippedPair starts the shipped central collector and the shipped
// collector beside ZITADEL for source, the latter's configuration edited by
// edit for where its ZITADEL is; waits until the scraper's Prometheus
// exporter shows scraped; stops and starts the scraper again on the same
// storage, as a pod of its StatefulSet restarts, and waits until the
// central collector's Prometheus exporter shows reported.
func runShippedPair(t *testing.T, dir, source string, edit func(map[string]any), scraped, reported func(exposition) bool) {
	t.Helper()
	bin := collectorBinary(t)
	t.Setenv("ZITADEL_PING_PATH_SECRET", deployPathSecret)
	t.Setenv("ZITADEL_REPORT_ID_KEY", deployReportKey)

	central := shippedConfig(t, "../../deploy/kubernetes/central/configmap.yaml")
	centralHTTP, centralProm := freeAddr(t), freeAddr(t)
	set(t, central, centralHTTP, "receivers", "zitadeltelemetry", "http", "endpoint")
	set(t, central, centralProm, "exporters", "prometheus", "endpoint")
	set(t, central, freeAddr(t), "extensions", "health_check", "endpoint")
	ownMetrics(t, central)
	centralCol := startCollector(t, bin, writeYAML(t, dir, "central.yaml", central))
	waitForListener(t, centralCol, centralHTTP)

	// The StatefulSet's CENTRAL_COLLECTOR_URL names the central Service; here
	// the central collector's address, with the path its receiver serves.
	path := dig(t, central, "receivers", "zitadeltelemetry", "http", "path")
	t.Setenv("CENTRAL_COLLECTOR_URL", "http://"+centralHTTP+path.(string))
	scraper := shippedConfig(t, "../../deploy/kubernetes/scraper/"+source+"/configmap.yaml")
	scraperProm := freeAddr(t)
	edit(scraper)
	set(t, scraper, scraperProm, "exporters", "prometheus", "endpoint")
	set(t, scraper, freeAddr(t), "extensions", "health_check", "endpoint")
	set(t, scraper, filepath.Join(dir, "storage"), "extensions", "file_storage", "directory")
	ownMetrics(t, scraper)
	scraperConfig := writeYAML(t, dir, "scraper.yaml", scraper)
	scraperCol := startCollector(t, bin, scraperConfig)

	waitUntil(t, 60*time.Second, "the collector beside ZITADEL exposes what it scraped", func() (bool, string) {
		m, err := readExposition("http://" + scraperProm + "/metrics")
		return err == nil && scraped(m), fmt.Sprint(err)
	}, scraperCol, centralCol)

	// A restart, as of the StatefulSet's pod: the schedule's first run is an
	// hour away, so the report comes from the stop (send_on_shutdown), which
	// left it in the queue on the volume, and the restarted collector sends it.
	require.NoError(t, scraperCol.terminate(10*time.Second))
	restarted := startCollector(t, bin, scraperConfig)
	waitUntil(t, 30*time.Second, "the central collector exposes the report", func() (bool, string) {
		m, err := readExposition("http://" + centralProm + "/metrics")
		return err == nil && reported(m), fmt.Sprint(err)
	}, restarted, centralCol)
}

// shippedConfig is the collector configuration in a shipped ConfigMap.
func shippedConfig(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cm))
	var config map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &config), path)
	return config
}

// set replaces the value at a path of keys, which must be there already.
func set(t *testing.T, config map[string]any, value any, keys ...string) {
	t.Helper()
	parent, ok := dig(t, config, keys[:len(keys)-1]...).(map[string]any)
	require.True(t, ok, "no %v", keys[:len(keys)-1])
	last := keys[len(keys)-1]
	if _, ok := parent[last]; !ok {
		t.Fatalf("the configuration has no %s", strings.Join(keys, "::"))
	}
	parent[last] = value
}

func dig(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		require.True(t, ok, "no %s", k)
		v = m[k]
	}
	return v
}

// ownMetrics moves the collector's own metrics to a free loopback port.
func ownMetrics(t *testing.T, config map[string]any) {
	t.Helper()
	readers := dig(t, config, "service", "telemetry", "metrics", "readers").([]any)
	prom := dig(t, readers[0], "pull", "exporter", "prometheus").(map[string]any)
	_, p := ownMetricsPort(t)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	prom["host"], prom["port"] = "127.0.0.1", port
}

func writeYAML(t *testing.T, dir, name string, config map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(config)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}
