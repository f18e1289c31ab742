package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The release names the tests render the chart with; the central collector's
// topology spread selects its pods by this release name.
const (
	centralRelease = "otelcol-zitadel"
	scraperRelease = "otelcol-zitadel-scraper"
)

// chartVersion is the version of the chart whose defaults are the test data:
// the one every helm command must install.
func chartVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(chartDefaults)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^# The defaults of the official chart open-telemetry/opentelemetry-collector (\d+\.\d+\.\d+)\n`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s does not open with the chart and its version", chartDefaults)
	}
	return string(m[1])
}

// TestHelmCommandsPinTheChart: every `helm install` and `helm upgrade` in
// deploy/README.md and in the comments of deploy/helm names the chart, the
// version the tests render against, and the release name they render with.
func TestHelmCommandsPinTheChart(t *testing.T) {
	version := chartVersion(t)
	files, err := filepath.Glob("helm/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	releases := map[string]string{"deploy/helm/central.yaml": centralRelease, "deploy/helm/scraper.yaml": scraperRelease}
	found := 0
	for _, f := range append(files, "README.md") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// One command a line: continuations joined, in comments too.
		text := regexp.MustCompile(`\\\n[\s#]*`).ReplaceAllString(string(data), " ")
		for _, m := range regexp.MustCompile(`helm (?:install|upgrade) [^\n]*`).FindAllString(text, -1) {
			found++
			cmd := helmCommand(strings.Fields(m))
			if cmd.chart != "open-telemetry/opentelemetry-collector" || cmd.version != version {
				t.Errorf("%s: %q installs %s version %q, want open-telemetry/opentelemetry-collector --version %s (%s)", f, m, cmd.chart, cmd.version, version, chartDefaults)
			}
			if len(cmd.values) == 0 || cmd.release != releases[cmd.values[0]] {
				t.Errorf("%s: %q installs the release %q with %v, want the release the tests render (%v)", f, m, cmd.release, cmd.values, releases)
			}
		}
	}
	if found < 3 {
		t.Errorf("found %d helm commands; the pattern no longer finds them", found)
	}
}

type helmInvocation struct {
	release, chart, version string
	values                  []string
}

// helmCommand reads `helm install|upgrade [--install] RELEASE CHART [flags]`.
func helmCommand(args []string) helmInvocation {
	var h helmInvocation
	var positional []string
	for i := 2; i < len(args); i++ {
		switch args[i] {
		case "--install":
		case "--version":
			if i+1 < len(args) {
				h.version = args[i+1]
				i++
			}
		case "-f", "--values":
			if i+1 < len(args) {
				h.values = append(h.values, args[i+1])
				i++
			}
		case "-n", "--namespace":
			i++
		default:
			positional = append(positional, args[i])
		}
	}
	if len(positional) >= 2 {
		h.release, h.chart = positional[0], positional[1]
	}
	return h
}
