package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
)

// The image test runs the image `make image` built with podman. scripts/test.sh
// builds it, gives buildah and podman their own storage and configuration
// (scripts/containers-env.sh) and names the image in OTELCOL_ZITADEL_IMAGE.
// Without it the test is skipped, unless CI=true.

// podmanImage returns the image under test and podman's path.
func podmanImage(t *testing.T) (podman, image string) {
	t.Helper()
	image = os.Getenv("OTELCOL_ZITADEL_IMAGE")
	podman, err := exec.LookPath("podman")
	if image != "" && err == nil {
		return podman, image
	}
	const hint = "run it through make test, which installs buildah, podman and runc from Debian's packages, builds the image and sets OTELCOL_ZITADEL_IMAGE"
	if os.Getenv("CI") == "true" {
		t.Fatalf("no image to test (OTELCOL_ZITADEL_IMAGE %q, podman: %v): %s", image, err, hint)
	}
	t.Skipf("no image to test: %s", hint)
	return "", ""
}

// podmanRun runs podman with the options this machine needs: runc (crun refuses
// a kernel mounting cgroups v1 and v2 side by side) and the host's network, so
// that the container listens on loopback only.
func podmanRun(podman string, args ...string) *exec.Cmd {
	return exec.Command(podman, append([]string{"run", "--runtime", "runc", "--network", "host"}, args...)...)
}

// imageConfig is what `podman image inspect` says of the image.
type imageConfig struct {
	Size   int64
	Config struct {
		User         string
		Entrypoint   []string
		Cmd          []string
		ExposedPorts map[string]struct{}
		Labels       map[string]string
	}
}

func TestImage(t *testing.T) {
	podman, image := podmanImage(t)
	out, err := exec.Command(podman, "image", "inspect", image).Output()
	if err != nil {
		t.Fatalf("podman image inspect %s: %v", image, err)
	}
	var inspected []imageConfig
	if err := json.Unmarshal(out, &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	cfg := inspected[0].Config
	t.Logf("image %s: %d bytes", image, inspected[0].Size)

	version := cfg.Labels["org.opencontainers.image.version"]
	if tag := image[strings.LastIndexByte(image, ':')+1:]; version != tag {
		t.Errorf("label org.opencontainers.image.version %q, the image is tagged %q", version, tag)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if rev := cfg.Labels["org.opencontainers.image.revision"]; rev != strings.TrimSpace(string(head)) {
		t.Errorf("label org.opencontainers.image.revision %q, the source is at %s", rev, head)
	}
	if cfg.User == "" || strings.HasPrefix(cfg.User, "0") || strings.HasPrefix(cfg.User, "root") {
		t.Errorf("user %q: the image must run as a non-root user", cfg.User)
	}
	for _, port := range []string{"4320/tcp", "8889/tcp", "8888/tcp", "13133/tcp"} {
		if _, ok := cfg.ExposedPorts[port]; !ok {
			t.Errorf("port %s is not exposed (%v)", port, cfg.ExposedPorts)
		}
	}

	t.Run("version stamped", func(t *testing.T) {
		out, err := podmanRun(podman, "--rm", image, "--version").CombinedOutput()
		if got, want := strings.TrimSpace(string(out)), "otelcol-zitadel version "+version; err != nil || got != want {
			t.Errorf("--version: %v, %q; want %q", err, got, want)
		}
	})
	t.Run("no shell", func(t *testing.T) {
		out, err := podmanRun(podman, "--rm", "--entrypoint", "/bin/sh", image, "-c", "true").CombinedOutput()
		if err == nil {
			t.Errorf("/bin/sh ran in the image:\n%s", out)
		}
	})
	t.Run("serves a report", func(t *testing.T) { testImageServesAReport(t, podman, image) })
}

// testImageServesAReport starts the image with its default configuration, the
// listening addresses moved to free loopback ports, sends it a ZITADEL service
// ping and reads the counts from its Prometheus exporter, then stops it with
// SIGTERM to the collector, the container's PID 1.
func testImageServesAReport(t *testing.T, podman, image string) {
	telemetry, prom, health := freeAddr(t), freeAddr(t), freeAddr(t)
	_, ownMetrics, _ := net.SplitHostPort(freeAddr(t))
	name := fmt.Sprintf("otelcol-zitadel-test-%d", os.Getpid())
	out, err := podmanRun(podman, "-d", "--name", name,
		"-e", "ZITADEL_PING_PATH_SECRET="+pathSecret,
		"-e", "ZITADEL_REPORT_ID_KEY=a-key-of-at-least-32-bytes-shared-by-replicas",
		"-e", "ZITADEL_TELEMETRY_ENDPOINT="+telemetry,
		"-e", "PROMETHEUS_ENDPOINT="+prom,
		"-e", "HEALTH_CHECK_ENDPOINT="+health,
		"-e", "OTELCOL_METRICS_PORT="+ownMetrics,
		image).CombinedOutput()
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command(podman, "logs", name).CombinedOutput()
			t.Logf("container log:\n%s", logs)
		}
		_ = exec.Command(podman, "rm", "--force", "--time", "0", name).Run()
	})

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + health + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 200*time.Millisecond, "health_check did not answer 200")

	base, rows := contracttest.Report("image-system", 2, 20)
	var want float64
	for _, r := range rows {
		want += float64(r.Amount)
	}
	ping := &servicepingclient.Client{Endpoint: "http://" + telemetry + "/zitadel/ping/" + pathSecret, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if err := ping.Report(context.Background(), base, rows, 100); err != nil {
		t.Fatalf("service ping to the container: %v", err)
	}
	system := `zitadel_system_id="image-system"`
	var m exposition
	require.Eventually(t, func() bool {
		m, err = readExposition("http://" + prom + "/metrics")
		return err == nil && strings.Count(m.text, "\nzitadel_resource_count{") == len(rows)
	}, 30*time.Second, 200*time.Millisecond, "the Prometheus exporter did not show every row")
	if got := m.sum("zitadel_resource_count", system); got != want {
		t.Errorf("zitadel_resource_count sums to %v for the system, the report to %v", got, want)
	}
	logRSS(t, podman, name)

	if out, err := exec.Command(podman, "kill", "--signal", "TERM", name).CombinedOutput(); err != nil {
		t.Fatalf("podman kill: %v\n%s", err, out)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err = exec.CommandContext(ctx, podman, "wait", name).CombinedOutput()
	if err != nil {
		t.Fatalf("the container did not end within 10 s of SIGTERM: %v\n%s", err, out)
	}
	if code := strings.TrimSpace(string(out)); code != "0" {
		t.Errorf("the collector exited with %s after SIGTERM", code)
	}
	t.Logf("SIGTERM to exit: %s", time.Since(start).Round(time.Millisecond))
}

// logRSS logs the collector's resident memory, now and at its peak, for the
// resource requests and limits of deploy/kubernetes.
func logRSS(t *testing.T, podman, name string) {
	t.Helper()
	pid, err := exec.Command(podman, "inspect", "--format", "{{.State.Pid}}", name).Output()
	if err != nil {
		t.Logf("podman inspect: %v", err)
		return
	}
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/status")
	if err != nil {
		t.Logf("collector status: %v", err)
		return
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "VmHWM") {
			t.Logf("collector %s", strings.Join(strings.Fields(line), " "))
		}
	}
}
