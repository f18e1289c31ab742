package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// exampleEnv fills the ${env:...} placeholders of the example configurations.
var exampleEnv = []string{
	"QUEUE_DIR=" + os.TempDir() + "/otelcol-zitadel-queue",
	"ZITADEL_HOST=zitadel.example.com",
	"ZITADEL_PAT_FILE=/etc/otelcol/zitadel.pat",
	"ZITADEL_KEY_FILE=/etc/otelcol/zitadel-key.json",
	"ZITADEL_SYSTEM_USER=otelcol",
	"ZITADEL_SYSTEM_USER_KEY_FILE=/etc/otelcol/system-user.pem",
	"OTLP_ENDPOINT=otlp.example.com:4317",
	"TELEMETRY_GRPC_ENDPOINT=telemetry.example.com:443",
	"ZITADEL_DB_HOST=db.example.com",
	"ZITADEL_DB_PASSWORD_FILE=/etc/otelcol/db.password",
	"ZITADEL_DB_CA_FILE=/etc/otelcol/db-ca.pem",
	"ZITADEL_API_ENDPOINT=127.0.0.1:8080",
	"ZITADEL_TELEMETRY_ENDPOINT=http://127.0.0.1:8081/api/ping",
	"PROMETHEUS_ENDPOINT=127.0.0.1:9464",
	"ZITADEL_PING_PATH_SECRET=0123456789abcdef0123456789abcdef",
	"ZITADEL_REPORT_ID_KEY=a-key-of-at-least-32-bytes-shared-by-replicas",
	"ZITADEL_SYSTEM_ID=acme-eu-1",
	"KNOWN_SYSTEMS=acme-eu-1|acme-us-1",
	"COLLECTORS_AUDIENCE=otelcol-central",
	"REMOTE_WRITE_URL=https://prometheus.example.com/api/v1/write",
}

func TestExampleConfigsValidate(t *testing.T) {
	bin := collectorBinary(t)
	files, err := filepath.Glob("../../testdata/examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../testdata/demo.yaml")
	if len(files) < 5 {
		t.Fatalf("found %d example configs, want the four examples and the demo", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cmd := exec.Command(bin, "validate", "--config", f)
			cmd.Env = exampleEnv
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("validate %s: %v\n%s", f, err, out)
			}
		})
	}
}

func TestValidateNamesTheWrongKey(t *testing.T) {
	bin := collectorBinary(t)
	cmd := exec.Command(bin, "validate", "--config", "../../testdata/examples/database.yaml")
	cmd.Env = []string{} // ZITADEL_DB_HOST unset: the endpoint has no host
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("validate passed a database endpoint without a host")
	}
	if !strings.Contains(string(out), "receivers::zitadel::database: endpoint") {
		t.Errorf("validate did not name the key:\n%s", out)
	}
}

func TestComponentsListsOurs(t *testing.T) {
	out, err := exec.Command(collectorBinary(t), "components").CombinedOutput()
	if err != nil {
		t.Fatalf("components: %v\n%s", err, out)
	}
	for _, want := range []string{"name: zitadel\n", "name: zitadeltelemetry\n", "name: prometheus\n", "name: file_storage\n",
		"name: bearertokenauth\n", "name: oidc\n", "name: zpages\n", "name: resource\n", "name: attributes\n",
		"name: filter\n", "name: transform\n", "name: prometheusremotewrite\n", "name: file\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("components lacks %q", strings.TrimSpace(want))
		}
	}
	receivers, _, _ := strings.Cut(string(out), "\nprocessors:")
	if !strings.Contains(receivers, "- name: zitadeltelemetry\n") {
		t.Error("components lists no zitadeltelemetry receiver")
	}
}

// TestReadmeNamesOnlyShippedComponents holds the README's configuration
// snippets to the distribution: every component a YAML block configures, and
// every authenticator it names, is one `otelcol-zitadel components` lists.
// The complete examples are validated above; the snippets are fragments.
func TestReadmeNamesOnlyShippedComponents(t *testing.T) {
	out, err := exec.Command(collectorBinary(t), "components").Output()
	if err != nil {
		t.Fatalf("components: %v", err)
	}
	var shipped map[string]any
	if err := yaml.Unmarshal(out, &shipped); err != nil {
		t.Fatalf("components output: %v\n%s", err, out)
	}
	has := map[string]map[string]bool{}
	for kind, list := range shipped {
		items, _ := list.([]any)
		for _, item := range items {
			if c, ok := item.(map[string]any); ok {
				if has[kind] == nil {
					has[kind] = map[string]bool{}
				}
				has[kind][c["name"].(string)] = true
			}
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	checked := 0
	for _, b := range blocks {
		var config map[string]any
		if err := yaml.Unmarshal([]byte(b[1]), &config); err != nil {
			t.Errorf("README YAML block does not parse: %v\n%s", err, b[1])
			continue
		}
		for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
			section, ok := config[kind].(map[string]any)
			if !ok {
				continue // an ocb manifest lists modules, not components
			}
			for id := range section {
				typ, _, _ := strings.Cut(id, "/")
				checked++
				if !has[kind][typ] {
					t.Errorf("the README configures %s %q, which otelcol-zitadel does not ship:\n%s", kind, id, b[1])
				}
			}
		}
		for _, m := range regexp.MustCompile(`authenticator: *([\w/]+)`).FindAllStringSubmatch(b[1], -1) {
			typ, _, _ := strings.Cut(m[1], "/")
			checked++
			if !has["extensions"][typ] {
				t.Errorf("the README authenticates with %q, which otelcol-zitadel does not ship:\n%s", m[1], b[1])
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked %d components in %d README YAML blocks; the pattern no longer finds them", checked, len(blocks))
	}
}
