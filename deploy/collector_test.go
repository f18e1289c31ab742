package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// collectorBinary returns the built otelcol-zitadel: OTELCOL_ZITADEL_BIN as
// `make test` sets it, or the one make builds (reused when no source changed).
func collectorBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("OTELCOL_ZITADEL_BIN"); bin != "" {
		return bin
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("make", "-C", root, "--no-print-directory", "otelcol").CombinedOutput(); err != nil {
		t.Fatalf("make otelcol: %v\n%s", err, out)
	}
	return filepath.Join(root, "build", "otelcol-zitadel-src", "otelcol-zitadel")
}

// validateConfig runs the built collector's validate on a configuration with
// only env set: every ${env:...} it names must be among them, so a variable the
// Secret does not carry is caught here and not by an empty value in a cluster.
func validateConfig(t *testing.T, config string, env []string) {
	t.Helper()
	set := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	for _, ref := range envRef.FindAllStringSubmatch(config, -1) {
		if !set[ref[1]] {
			t.Errorf("the configuration reads ${env:%s}, which nothing sets", ref[1])
		}
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(collectorBinary(t), "validate", "--config="+path)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("otelcol-zitadel validate: %v\n%s\nconfiguration:\n%s", err, out, config)
	}
}
