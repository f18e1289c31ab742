package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// collectorBinary returns the built otelcol-zitadel. `make test` builds it
// first and passes its path; run alone, the test builds it through make, which
// reuses the build when no source changed.
func collectorBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("OTELCOL_ZITADEL_BIN"); bin != "" {
		return bin
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-C", root, "--no-print-directory", "otelcol").CombinedOutput()
	if err != nil {
		t.Fatalf("make otelcol: %v\n%s", err, out)
	}
	return filepath.Join(root, "build", "otelcol-zitadel-src", "otelcol-zitadel")
}

// writeConfig writes the collector configuration tmpl makes of v to path.
func writeConfig(t testing.TB, path string, tmpl *template.Template, v any) {
	t.Helper()
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serviceTelemetryYAML opens a configuration's service block: the
// collector's own metrics served on 127.0.0.1:{{.TelemetryPort}}, or none
// without a port.
const serviceTelemetryYAML = `service:
  telemetry:
    metrics:
{{- if .TelemetryPort}}
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.TelemetryPort}}
{{- else}}
      level: none
{{- end}}
`

// collector is a running otelcol-zitadel child process.
type collector struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error
}

func startCollector(t testing.TB, bin, configPath string, args ...string) *collector {
	t.Helper()
	c := &collector{out: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(bin, append([]string{"--config", configPath}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start collector: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("collector output:\n%s", c.out.String())
		}
	})
	return c
}

// terminate sends SIGTERM and waits for a clean exit.
func (c *collector) terminate(timeout time.Duration) error {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-c.exited:
		return c.err
	case <-time.After(timeout):
		return errors.New("collector still running after SIGTERM")
	}
}

func (c *collector) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// waitUntil asks probe every 100 ms until it holds, failing at once when a
// watched collector exits (with its output) and after timeout with what
// probe last saw.
func waitUntil(t *testing.T, timeout time.Duration, what string, probe func() (ok bool, last string), watched ...*collector) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := probe()
		if ok {
			return
		}
		for _, c := range watched {
			if !c.running() {
				t.Fatalf("collector exited while waiting until %s: %v\n%s", what, c.err, c.out.String())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s; last: %s", what, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Contains(s string) bool {
	return strings.Contains(b.String(), s)
}
