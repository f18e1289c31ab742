package deploy

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The namespaces deploy/README.md runs the collectors in: the central one in
// its own, the one beside ZITADEL in ZITADEL's.
const (
	centralNamespace = "otelcol-zitadel"
	zitadelNamespace = "zitadel"
)

// centralPods are the three paths of the central collector.
func centralPods(t *testing.T) []collectorPod {
	t.Helper()
	return []collectorPod{
		loadKustomization(t, "kubernetes/central").pod(t),
		helmRelease(t, centralRelease, "helm/central.yaml"),
		operatorCollectorPod(t, "operator/central.yaml", centralNamespace),
	}
}

// scraperPods are the three paths of the collector beside ZITADEL for one
// source, api or database.
func scraperPods(t *testing.T, source string) []collectorPod {
	t.Helper()
	return []collectorPod{
		loadKustomization(t, "kubernetes/scraper/"+source).pod(t),
		helmRelease(t, scraperRelease, "helm/scraper.yaml", "helm/scraper-"+source+".yaml"),
		operatorCollectorPod(t, "operator/scraper-"+source+".yaml", zitadelNamespace),
	}
}

func allPods(t *testing.T) []collectorPod {
	t.Helper()
	return slices.Concat(centralPods(t), scraperPods(t, "api"), scraperPods(t, "database"))
}

// checkPod holds one path's pod to everything every pod shares.
func checkPod(t *testing.T, p collectorPod) {
	t.Helper()
	checkHardening(t, p)
	checkImage(t, p)
	checkMemory(t, p)
	checkProbesAndPorts(t, p)
	if !selects(p.selector, p.labels) {
		t.Errorf("%s: the workload's selector %v does not select its pods (%v)", p.path, p.selector, p.labels)
	}
	validateConfig(t, p.path, p.config, podEnv(t, p))
}

func TestCentralCollector(t *testing.T) {
	pods := centralPods(t)
	for _, p := range pods {
		checkPod(t, p)
		if deref(p.replicas) != 2 || p.kind != "Deployment" {
			t.Errorf("%s: %d replicas in a %s, want a Deployment of 2 sharing the report key", p.path, deref(p.replicas), p.kind)
		}
		if d := p.disruptions; d == nil || d.minAvailable == nil || d.minAvailable.IntValue() < 1 || d.minAvailable.IntValue() >= int(deref(p.replicas)) {
			t.Errorf("%s: PodDisruptionBudget %+v, want one replica and fewer than all kept up", p.path, d)
		} else if !selects(d.selector, p.labels) {
			t.Errorf("%s: the PodDisruptionBudget selects %v, not the pods (%v)", p.path, d.selector, p.labels)
		}
		if tsc := p.spec.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" {
			t.Errorf("%s: topology spread %+v, want the replicas spread over nodes", p.path, tsc)
		}
	}
	checkSameAcrossPaths(t, pods)

	// One Service name for ZITADEL to report to, but for the Operator's, which
	// deploy/README.md gives.
	readme := readmeText(t)
	for _, p := range pods {
		want := "otelcol-zitadel"
		if strings.HasPrefix(p.path, "operator/") {
			want = "otelcol-zitadel-collector"
		}
		if p.service.name != want {
			t.Errorf("%s: Service %q, want %q", p.path, p.service.name, want)
		}
		endpoint := fmt.Sprintf("http://%s.%s:%d%s/", p.service.name, centralNamespace, telemetryPort(t, p), receiverPath(t, p.config))
		if !strings.Contains(readme, endpoint) {
			t.Errorf("deploy/README.md does not point ZITADEL at %s (%s)", endpoint, p.path)
		}
	}
}

func TestScraperBesideZitadel(t *testing.T) {
	central := loadKustomization(t, "kubernetes/central").pod(t)
	for _, source := range []string{"api", "database"} {
		t.Run(source, func(t *testing.T) {
			pods := scraperPods(t, source)
			for _, p := range pods {
				checkPod(t, p)
				// Two would read the same events and count every login twice.
				if deref(p.replicas) != 1 || p.kind != "StatefulSet" {
					t.Errorf("%s: %d replicas in a %s, want one in a StatefulSet", p.path, deref(p.replicas), p.kind)
				}
				checkStorage(t, p, source)
				checkReportsToCentral(t, p, central)
			}
			checkSameAcrossPaths(t, pods)
		})
	}
}

// TestScraperReportsAtEveryStop: every path's collector beside ZITADEL
// reports on a schedule and once more at a clean stop. A run missed while the
// collector was stopped is not made up and @every counts from each start, so
// without send_on_shutdown a collector restarted more often than its schedule
// would never report.
func TestScraperReportsAtEveryStop(t *testing.T) {
	type report struct {
		Schedule       string `json:"schedule"`
		SendOnShutdown bool   `json:"send_on_shutdown"`
	}
	var first *report
	for _, source := range []string{"api", "database"} {
		for _, p := range scraperPods(t, source) {
			var c struct {
				Exporters struct {
					Telemetry report `json:"zitadeltelemetry"`
				} `json:"exporters"`
			}
			if err := yaml.Unmarshal([]byte(p.config), &c); err != nil {
				t.Fatal(err)
			}
			got := c.Exporters.Telemetry
			if got.Schedule == "" || !got.SendOnShutdown {
				t.Errorf("%s: zitadeltelemetry exporter %+v, want a schedule with send_on_shutdown", p.path, got)
			}
			if first == nil {
				first = &got
			} else if got != *first {
				t.Errorf("%s: zitadeltelemetry exporter %+v, the other paths %+v", p.path, got, *first)
			}
		}
	}
}

// checkStorage: the file_storage directory is a volume claimed by the
// StatefulSet, and the activity state and the exporter's snapshot and
// queue are kept in it.
func checkStorage(t *testing.T, p collectorPod, source string) {
	t.Helper()
	var c struct {
		Extensions struct {
			FileStorage *struct {
				Directory string `json:"directory"`
			} `json:"file_storage"`
		} `json:"extensions"`
		Receivers struct {
			Zitadel struct {
				Activity struct {
					Enabled bool   `json:"enabled"`
					Storage string `json:"storage"`
				} `json:"activity"`
			} `json:"zitadel"`
		} `json:"receivers"`
		Exporters struct {
			Telemetry struct {
				Schedule     string `json:"schedule"`
				Storage      string `json:"storage"`
				SendingQueue struct {
					Storage string `json:"storage"`
				} `json:"sending_queue"`
			} `json:"zitadeltelemetry"`
		} `json:"exporters"`
	}
	if err := yaml.Unmarshal([]byte(p.config), &c); err != nil {
		t.Fatal(err)
	}
	if c.Extensions.FileStorage == nil {
		t.Fatalf("%s: no file_storage extension", p.path)
	}
	mounted := false
	for _, m := range p.container().VolumeMounts {
		for _, claim := range p.claims {
			mounted = mounted || (m.Name == claim.Name && m.MountPath == c.Extensions.FileStorage.Directory && !m.ReadOnly)
		}
	}
	if !mounted {
		t.Errorf("%s: file_storage's directory %q is not a claimed volume (%v, %v)", p.path, c.Extensions.FileStorage.Directory, p.container().VolumeMounts, p.claims)
	}
	e := c.Exporters.Telemetry
	if e.Schedule == "" || e.Storage != "file_storage" || e.SendingQueue.Storage != "file_storage" {
		t.Errorf("%s: zitadeltelemetry exporter %+v, want a schedule whose snapshot and queue are kept in file_storage", p.path, e)
	}
	// The volume is written by the image's user through its group.
	if g := deref(p.spec.SecurityContext).FSGroup; deref(g) != imageUser {
		t.Errorf("%s: fsGroup %d, want %d, the image's group, so that the collector can write the volume", p.path, deref(g), imageUser)
	}
	if a := c.Receivers.Zitadel.Activity; !a.Enabled || a.Storage != "file_storage" {
		t.Errorf("%s: the %s source's activity %+v, want it on and kept in file_storage", p.path, source, a)
	}
}

// checkReportsToCentral: the exporter reports to the central collector's
// Service, port and path, with its path secret.
func checkReportsToCentral(t *testing.T, p collectorPod, central collectorPod) {
	t.Helper()
	var c struct {
		Exporters struct {
			Telemetry struct {
				Endpoint   string `json:"endpoint"`
				PathSecret string `json:"path_secret"`
			} `json:"zitadeltelemetry"`
		} `json:"exporters"`
	}
	if err := yaml.Unmarshal([]byte(p.config), &c); err != nil {
		t.Fatal(err)
	}
	endpoint := expand(c.Exporters.Telemetry.Endpoint, podEnv(t, p))
	want := fmt.Sprintf("http://%s.%s.svc:%d%s", central.service.name, centralNamespace, telemetryPort(t, central), receiverPath(t, central.config))
	if endpoint != want {
		t.Errorf("%s: the zitadeltelemetry exporter reports to %q, want the central collector's Service %q", p.path, endpoint, want)
	}
	if c.Exporters.Telemetry.PathSecret != "${env:ZITADEL_PING_PATH_SECRET}" {
		t.Errorf("%s: path_secret %q, want the central collector's, from the Secret", p.path, c.Exporters.Telemetry.PathSecret)
	}
}

// telemetryPort is the Service port in front of the zitadeltelemetry receiver.
func telemetryPort(t *testing.T, p collectorPod) int32 {
	t.Helper()
	receiver := int32(listenPorts(t, p.path, p.config)["zitadeltelemetry receiver"])
	for _, sp := range p.service.ports {
		if p.containerPort(sp.TargetPort) == receiver {
			return sp.Port
		}
	}
	t.Fatalf("%s: no Service port reaches the zitadeltelemetry receiver on %d", p.path, receiver)
	return 0
}

func receiverPath(t *testing.T, config string) string {
	t.Helper()
	var c struct {
		Receivers struct {
			Telemetry struct {
				HTTP struct {
					Path string `json:"path"`
				} `json:"http"`
			} `json:"zitadeltelemetry"`
		} `json:"receivers"`
	}
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		t.Fatal(err)
	}
	return c.Receivers.Telemetry.HTTP.Path
}

// TestShippedConfigsStartWithoutWarning starts the built collector on every
// configuration shipped (each path's, the Helm values merged with the chart's
// defaults, and the image's default) and holds its start free of warnings: a
// deprecation, or a form the collector reads but no longer wants. The stop is
// not held: a scraper that counted nothing says so when its stop reports.
func TestShippedConfigsStartWithoutWarning(t *testing.T) {
	type shipped struct {
		where, config string
		env           []string
	}
	var configs []shipped
	for _, p := range allPods(t) {
		configs = append(configs, shipped{p.path, p.config, podEnv(t, p)})
	}
	image, err := os.ReadFile("image/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	configs = append(configs, shipped{"image/config.yaml", string(image), []string{
		"ZITADEL_PING_PATH_SECRET=" + sampleSecretValues["ZITADEL_PING_PATH_SECRET"],
		"ZITADEL_REPORT_ID_KEY=" + sampleSecretValues["ZITADEL_REPORT_ID_KEY"],
		fmt.Sprintf("HEALTH_CHECK_ENDPOINT=127.0.0.1:%d", freePort(t)),
		fmt.Sprintf("ZITADEL_TELEMETRY_ENDPOINT=127.0.0.1:%d", freePort(t)),
		fmt.Sprintf("PROMETHEUS_ENDPOINT=127.0.0.1:%d", freePort(t)),
		fmt.Sprintf("OTELCOL_METRICS_PORT=%d", freePort(t)),
	}})
	for _, c := range configs {
		start, _, _ := strings.Cut(startLog(t, c.where, c.config, c.env), "Everything is ready")
		for _, line := range strings.Split(start, "\n") {
			if strings.Contains(strings.ToLower(line), "deprecat") || strings.Contains(line, "\twarn\t") {
				t.Errorf("%s starts with a warning:\n%s", c.where, line)
			}
		}
	}
}

// podEnv is the environment the collector in a pod sees: the container's
// variables, resolved as the kubelet would for a sample pod, and the keys of
// the Secret deploy/README.md creates for it, with sample values.
func podEnv(t *testing.T, p collectorPod) []string {
	t.Helper()
	c := p.container()
	var env []string
	for _, e := range c.Env {
		value := e.Value
		switch {
		case e.ValueFrom == nil:
		case e.ValueFrom.FieldRef != nil:
			value = map[string]string{
				"status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1", "spec.nodeName": "node-1",
				"metadata.namespace": "otelcol-zitadel", "metadata.name": "otelcol-zitadel-0",
			}[e.ValueFrom.FieldRef.FieldPath]
		case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
			value = strconv.FormatInt(c.Resources.Limits.Memory().Value(), 10)
		case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.cpu":
			value = "1"
		default:
			t.Fatalf("%s: env %s: no sample for %+v", p.path, e.Name, e.ValueFrom)
		}
		env = append(env, e.Name+"="+value)
	}
	return append(env, secretEnv(t, p, env)...)
}

// secretEnv is the Secret of a pod as deploy/README.md creates it: of the
// README's `kubectl create secret` commands for that Secret, the one whose keys
// give the configuration every variable it reads.
func secretEnv(t *testing.T, p collectorPod, podEnv []string) []string {
	t.Helper()
	names := secretNames(p)
	if len(names) != 1 {
		t.Fatalf("%s: envFrom %v, want one Secret", p.path, names)
	}
	var tried [][]string
	for _, cmd := range readmeSecrets(t) {
		if !names[cmd.name] {
			continue
		}
		var env []string
		for _, key := range cmd.keys {
			value, ok := sampleSecretValues[key]
			if !ok {
				t.Fatalf("deploy/README.md creates the Secret %s with %s, which has no sample value here", cmd.name, key)
			}
			env = append(env, key+"="+value)
		}
		if readsOnly(p.config, slices.Concat(podEnv, env)) {
			return env
		}
		tried = append(tried, cmd.keys)
	}
	t.Errorf("%s: no kubectl create secret in deploy/README.md creates the Secret %v with what the configuration reads (tried %v)", p.path, names, tried)
	return nil
}

func readsOnly(config string, env []string) bool {
	for _, ref := range envRef.FindAllStringSubmatch(config, -1) {
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, ref[1]+"=") }) {
			return false
		}
	}
	return true
}

// sampleSecretValues stand for what an operator puts into the Secrets, in the
// shapes the collector checks.
var sampleSecretValues = map[string]string{
	"ZITADEL_PING_PATH_SECRET": "7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e8b4d6a0f3c9e7b1d",                 // openssl rand -hex 24
	"ZITADEL_REPORT_ID_KEY":    "q3Zl0t3Vb8nJ1mXy5pRk7wHc2sFa9dGe4uTi6oLz0bNv8xQm1yCr5jKh3gWf7eDs", // openssl rand -base64 48
	"ZITADEL_TOKEN":            "a-service-users-personal-access-token",
	"ZITADEL_DOMAIN":           "auth.example.com",
	"ZITADEL_DB_DSN":           "postgres://zitadel_reader:secret@127.0.0.1:1/zitadel?sslmode=disable",
}

type secretCommand struct {
	name string
	keys []string
}

// readmeSecrets are the `kubectl create secret generic` commands of
// deploy/README.md, with the keys each gives the Secret.
func readmeSecrets(t *testing.T) []secretCommand {
	t.Helper()
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(readmeText(t), " ")
	var cmds []secretCommand
	for _, line := range strings.Split(text, "\n") {
		m := regexp.MustCompile(`kubectl .*create secret generic (\S+)`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cmd := secretCommand{name: m[1]}
		for _, k := range regexp.MustCompile(`--from-literal=([A-Za-z0-9_]+)=`).FindAllStringSubmatch(line, -1) {
			cmd.keys = append(cmd.keys, k[1])
		}
		cmds = append(cmds, cmd)
	}
	if len(cmds) == 0 {
		t.Fatal("deploy/README.md has no kubectl create secret generic")
	}
	return cmds
}

func readmeText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// expand replaces ${env:NAME} as the collector does.
func expand(s string, env []string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				return v
			}
		}
		return ref
	})
}
