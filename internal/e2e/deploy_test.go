package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// TestShippedScraperReportsToShippedCentral runs the configurations
// deploy/kubernetes ships, as they are but for the addresses a cluster gives
// them: the collector beside ZITADEL (api source, a service user's token, the
// instance by its domain, the activity) scrapes a simulated ZITADEL and
// exposes counts and logins, then, stopped and started again on its volume,
// reports to the central collector, which exposes the counts.
func TestShippedScraperReportsToShippedCentral(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	const token = "deploy-service-user-token"
	zitadel, _ := startZitadel(t, dir, 3, fakezitadel.Options{PATs: map[string]string{token: ""}})
	ds := zitadel.Dataset()
	instance := ds.Instances[0]
	activity := zitadel.WriteSampleActivity(instance.ID, time.Now().UTC())
	domain := ""
	for _, d := range instance.Domains {
		if d.Primary {
			domain = d.Name
		}
	}

	// The Secrets' values, as deploy/README.md creates them.
	t.Setenv("ZITADEL_PING_PATH_SECRET", "7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e8b4d6a0f3c9e7b1d")
	t.Setenv("ZITADEL_REPORT_ID_KEY", "q3Zl0t3Vb8nJ1mXy5pRk7wHc2sFa9dGe4uTi6oLz0bNv8xQm1yCr5jKh3gWf7eDs")
	t.Setenv("ZITADEL_TOKEN", token)
	t.Setenv("ZITADEL_DOMAIN", domain)

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
	scraper := shippedConfig(t, "../../deploy/kubernetes/scraper/api/configmap.yaml")
	scraperProm := freeAddr(t)
	set(t, scraper, zitadel.GRPCAddr(), "receivers", "zitadel", "api", "endpoint")
	set(t, scraper, scraperProm, "exporters", "prometheus", "endpoint")
	set(t, scraper, freeAddr(t), "extensions", "health_check", "endpoint")
	set(t, scraper, filepath.Join(dir, "storage"), "extensions", "file_storage", "directory")
	ownMetrics(t, scraper)
	// The schedule sends a report an hour after the start; a stop hands it to
	// the sending queue on the volume now.
	set(t, scraper, true, "exporters", "zitadeltelemetry", "send_on_shutdown")
	scraperConfig := writeYAML(t, dir, "scraper.yaml", scraper)
	scraperCol := startCollector(t, bin, scraperConfig)

	want := 0
	for k := range expectedRows(ds) {
		if k.instance == instance.ID {
			want++
		}
	}
	inInstance := fmt.Sprintf(`zitadel_instance_id="%s"`, instance.ID)
	logins := 0
	for _, n := range activity.Logins {
		logins += n
	}
	require.Eventually(t, func() bool {
		m, err := readExposition("http://" + scraperProm + "/metrics")
		return err == nil && seriesCount(m, "zitadel_resource_count", inInstance) >= want &&
			m.sum("zitadel_logins_total", inInstance) == float64(logins)
	}, 60*time.Second, 200*time.Millisecond, "the collector beside ZITADEL did not expose the instance's counts and %d logins", logins)

	// A restart, as of the StatefulSet's pod: the queue on the volume sends
	// the report the stop left in it.
	require.NoError(t, scraperCol.terminate(10*time.Second))
	startCollector(t, bin, scraperConfig)
	require.Eventually(t, func() bool {
		m, err := readExposition("http://" + centralProm + "/metrics")
		return err == nil && seriesCount(m, "zitadel_resource_count", inInstance) == want
	}, 30*time.Second, 200*time.Millisecond, "the central collector did not expose the %d rows of the report", want)
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

// set replaces the value at a path of keys, which must be there already
// (but for send_on_shutdown, which the test adds).
func set(t *testing.T, config map[string]any, value any, keys ...string) {
	t.Helper()
	parent, ok := dig(t, config, keys[:len(keys)-1]...).(map[string]any)
	require.True(t, ok, "no %v", keys[:len(keys)-1])
	last := keys[len(keys)-1]
	if _, ok := parent[last]; !ok && last != "send_on_shutdown" {
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
	addr := freeAddr(t)
	port, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
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

func seriesCount(m exposition, name, label string) int {
	return len(regexp.MustCompile(`(?m)^`+name+`\{[^}]*`+regexp.QuoteMeta(label)).FindAllStringIndex(m.text, -1))
}
