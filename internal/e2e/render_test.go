//go:build render

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/prometheustest"
)

// TestRenderUsersGraph renders Prometheus' graph of users per instance, as a
// real Prometheus holds them after scraping the built collector, into
// build/users-per-instance.png with headless Chromium (Debian's chromium), for
// a reviewer to look at. `make graph` runs it.
func TestRenderUsersGraph(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install -y chromium")
	}
	p, prom := startDashboardStack(t, 20)
	users := `zitadel_instance:zitadel_resource_count:sum{zitadel_resource_name="user"}`
	waitForSamples(t, prom, users, 10)

	// The installation grows (more in the first instance), and the restarted
	// collector counts it at once: the graph steps up.
	for i, in := range p.dataset.Instances {
		p.zitadel.Write(in.ID, time.Now(), func(w *fakezitadel.Writer) {
			for range 30 * (len(p.dataset.Instances) - i) {
				w.AddUser(in.Orgs[0], false, fakezitadel.StateActive)
			}
		})
	}
	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	p.collector = startCollector(t, collectorBinary(t), p.configPath)
	waitForSamples(t, prom, users, 20)

	out, err := filepath.Abs("../../build/users-per-instance.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(out)
	graph := prom.URL + "/graph?" + url.Values{
		"g0.expr":        {users},
		"g0.tab":         {"0"},
		"g0.range_input": {"1m"},
	}.Encode()
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=1400,900", "--virtual-time-budget=10000",
		"--screenshot="+out, graph)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, log)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is no PNG: %v", out, err)
	}
	colours := map[[3]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 4 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 4 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 8 {
		t.Errorf("%s has %d colours: the page did not render", out, len(colours))
	}
	t.Logf("rendered %s (%dx%d)", out, bounds.Dx(), bounds.Dy())
}

// waitForSamples waits until every series of expr has n samples in the last minute.
func waitForSamples(t *testing.T, prom *prometheustest.Server, expr string, n int) {
	t.Helper()
	q := fmt.Sprintf("min(count_over_time(%s[1m])) >= %d", expr, n)
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := prom.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d samples of %s within a minute", n, expr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
