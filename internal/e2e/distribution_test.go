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
	"AUDIT_ID_HASH_KEY=a-key-of-at-least-32-bytes-for-user-ids",
}

func TestExampleConfigsValidate(t *testing.T) {
	bin := collectorBinary(t)
	files, err := filepath.Glob("../../testdata/examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The image's default configuration too: the README runs the binary with it.
	files = append(files, "../../testdata/demo.yaml", "../../deploy/image/config.yaml")
	if len(files) < 9 {
		t.Fatalf("found %d example configs, want the seven examples, the demo and the image's", len(files))
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
	for _, want := range []string{
		"name: zitadel\n", "name: zitadeltelemetry\n", "name: prometheus\n", "name: file_storage\n",
		"name: bearertokenauth\n", "name: oidc\n", "name: zpages\n", "name: resource\n", "name: attributes\n",
		"name: filter\n", "name: transform\n", "name: prometheus_remote_write\n",
	} {
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
// every authenticator it names, is of a type the built collector knows (its
// own names or their aliases). The complete examples are validated above; the
// snippets are fragments.
func TestReadmeNamesOnlyShippedComponents(t *testing.T) {
	bin := collectorBinary(t)
	// The entry README and each component's reference, where most examples are.
	var blocks [][]string
	for _, path := range []string{
		"../../README.md", "../../zitadelreceiver/README.md", "../../zitadelexporter/README.md",
		"../../zitadeltelemetryreceiver/README.md", "../../deploy/README.md",
	} {
		readme, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)...)
	}
	known := map[string]map[string]bool{}
	checked := 0
	check := func(kind, id, block string) {
		typ, _, _ := strings.Cut(id, "/")
		if known[kind] == nil {
			known[kind] = componentTypes(t, bin, kind)
		}
		checked++
		if !known[kind][typ] {
			t.Errorf("the README names %s %q, which otelcol-zitadel does not ship:\n%s", kind, id, block)
		}
	}
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
				check(kind, id, b[1])
			}
		}
		for _, m := range regexp.MustCompile(`authenticator: *([\w/]+)`).FindAllStringSubmatch(b[1], -1) {
			check("extensions", m[1], b[1])
		}
	}
	if checked < 10 {
		t.Errorf("checked %d components in %d README YAML blocks; the pattern no longer finds them", checked, len(blocks))
	}
}

// componentTypes are the types of kind (receivers, exporters, ...) the built
// collector knows, aliases included, as its error for an unknown type lists them.
func componentTypes(t *testing.T, bin, kind string) map[string]bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), kind+".yaml")
	config := kind + ":\n  no_such_component_type:\nservice:\n  pipelines: {}\n"
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, "validate", "--config", path).CombinedOutput()
	m := regexp.MustCompile(`unknown type: "no_such_component_type".*\(valid values: \[([^\]]*)\]\)`).FindSubmatch(out)
	types := map[string]bool{}
	if m == nil {
		return types // none of that kind, as for connectors
	}
	for _, typ := range strings.Fields(string(m[1])) {
		types[typ] = true
	}
	return types
}
