package deploy

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// collectorBinary returns the built otelcol-zitadel: OTELCOL_ZITADEL_BIN as
// `make test` sets it, or the one make builds (reused when no source changed).
func collectorBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("OTELCOL_ZITADEL_BIN"); bin != "" {
		return bin
	}
	built.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			built.err = err
			return
		}
		if out, err := exec.Command("make", "-C", root, "--no-print-directory", "otelcol").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("make otelcol: %w\n%s", err, out)
			return
		}
		built.path = filepath.Join(root, "build", "otelcol-zitadel-src", "otelcol-zitadel")
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// built is the collector make built for this test binary: once, however
// many configurations start it.
var built struct {
	once sync.Once
	path string
	err  error
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// checkEnvSet: every ${env:...} a configuration reads is among env, so a
// variable neither the pod nor its Secret sets is caught here and not by an
// empty value in a cluster.
func checkEnvSet(t *testing.T, where, config string, env []string) {
	t.Helper()
	set := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	for _, ref := range envRef.FindAllStringSubmatch(config, -1) {
		if !set[ref[1]] {
			t.Errorf("%s: the configuration reads ${env:%s}, which neither the pod nor its Secret sets", where, ref[1])
		}
	}
}

// validateConfig runs the built collector's validate on a configuration with
// only env set.
func validateConfig(t *testing.T, where, config string, env []string) {
	t.Helper()
	checkEnvSet(t, where, config, env)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(collectorBinary(t), "validate", "--config="+path)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: otelcol-zitadel validate: %v\n%s\nconfiguration:\n%s", where, err, out, config)
	}
}

// startLog starts the built collector on a configuration with only env set,
// until it says it is ready (or ends), stops it with SIGTERM and returns its
// log. What it listens on moves to free loopback ports and its file_storage
// directory to a temporary one; nothing else changes.
func startLog(t *testing.T, where, config string, env []string) string {
	t.Helper()
	var c map[string]any
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		t.Fatal(err)
	}
	local(t, c)
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, collectorBinary(t), "--config="+path)
	cmd.Env = env
	// The collector writes its log to a file the test reads as it runs.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "collector.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	log := func() string {
		data, _ := os.ReadFile(logFile.Name())
		return string(data)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ready := time.NewTicker(50 * time.Millisecond)
	defer ready.Stop()
	for !strings.Contains(log(), "Everything is ready") {
		select {
		case err := <-done:
			t.Errorf("%s: the collector ended before it was ready: %v\n%s", where, err, log())
			return log()
		case <-ctx.Done():
			t.Fatalf("%s: the collector was not ready within 30 s:\n%s", where, log())
		case <-ready.C:
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	// How it ends is the shutdown tests' concern, not this one's: only said.
	if err := <-done; err != nil {
		t.Logf("%s: the collector ended with %v", where, err)
	}
	return log()
}

// local moves every listening endpoint of a configuration to a free loopback
// port and every file_storage directory to a temporary one.
func local(t *testing.T, c map[string]any) {
	t.Helper()
	listening := regexp.MustCompile(`^(0\.0\.0\.0|\$\{env:MY_POD_IP\}):\d+$`)
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case string:
				if k == "endpoint" && listening.MatchString(v) {
					m[k] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
				}
			case map[string]any:
				walk(v)
			case []any:
				for _, e := range v {
					if em, ok := e.(map[string]any); ok {
						walk(em)
					}
				}
			}
		}
	}
	walk(c)
	if extensions, ok := c["extensions"].(map[string]any); ok {
		for id, ext := range extensions {
			if typ, _, _ := strings.Cut(id, "/"); typ == "file_storage" {
				ext.(map[string]any)["directory"] = t.TempDir()
			}
		}
	}
	readers, _ := dig(c, "service", "telemetry", "metrics", "readers").([]any)
	for _, r := range readers {
		if prom, ok := dig(r, "pull", "exporter", "prometheus").(map[string]any); ok {
			prom["host"], prom["port"] = "127.0.0.1", freePort(t)
		}
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
