package e2e

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The configuration keys the collector prints and the names of the
// collector's own metrics are part of the product: dashboards, alerts and
// configurations in the field name them. These tests hold both to golden
// files, so that moving code between packages cannot change either.
var updateGuard = flag.Bool("update-guard", false, "rewrite testdata/print-config.golden and testdata/own-metric-names.golden")

// TestPrintConfigIsUnchanged prints a configuration of every component, each
// of its own blocks set, and the defaults the collector fills in.
func TestPrintConfigIsUnchanged(t *testing.T) {
	bin := collectorBinary(t)
	cmd := exec.Command(bin, "print-config", "--mode", "unredacted", "--config", "testdata/layout-full.yaml")
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		t.Fatalf("print-config: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	matchGolden(t, "testdata/print-config.golden", out)
}

// TestOwnMetricNamesAreUnchanged runs the chain of every component (the edge
// collector's zitadel receiver and exporters, the central collector's
// zitadeltelemetry receiver and exporter) and lists the names and label
// keys of both collectors' own metrics of this module,
// after the central collector refused one page.
func TestOwnMetricNamesAreUnchanged(t *testing.T) {
	centralOwn, centralPort := ownMetricsPort(t)
	edgeOwn, edgePort := ownMetricsPort(t)
	c := startChain(t, chainOptions{protocol: "http", edgePort: edgePort, centralPort: centralPort})
	c.waitForReports(t)
	edge := waitForOwnMetric(t, c.edge, edgeOwn, "otelcol_zitadeltelemetry_exporter_reports", 2, `protocol="http"`)
	refuseUnknownReportID(t, c.central.endpoint())
	waitForOwnMetric(t, c.central.collector, centralOwn, "otelcol_zitadeltelemetry_receiver_refused_calls", 1)
	central := waitForOwnMetric(t, c.central.collector, centralOwn, "otelcol_zitadeltelemetry_exporter_reports", 1)
	c.terminate(t)

	var lines []string
	for _, side := range []struct {
		name string
		m    exposition
	}{{"edge", edge}, {"central", central}} {
		for _, s := range ownSeriesShapes(side.m) {
			lines = append(lines, side.name+" "+s)
		}
	}
	matchGolden(t, "testdata/own-metric-names.golden", []byte(strings.Join(lines, "\n")+"\n"))
}

// ownSeriesLine is a sample line of a zitadel metric: its name and labels.
var ownSeriesLine = regexp.MustCompile(`^(otelcol_zitadel[a-z_]*)(\{([^}]*)\})? `)

// labelKey is one label's key in a label list.
var labelKey = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)

// ownSeriesShapes lists, sorted and once each, every metric name of this
// module's components with the keys of its labels.
func ownSeriesShapes(m exposition) []string {
	var shapes []string
	for _, line := range strings.Split(m.text, "\n") {
		match := ownSeriesLine.FindStringSubmatch(line)
		if match == nil {
			continue
		}
		var keys []string
		for _, k := range labelKey.FindAllStringSubmatch(match[3], -1) {
			keys = append(keys, k[1])
		}
		slices.Sort(keys)
		shapes = append(shapes, match[1]+" "+strings.Join(keys, ","))
	}
	slices.Sort(shapes)
	return slices.Compact(shapes)
}

func matchGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGuard {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update-guard once to write %s", path)
	require.Equal(t, string(want), string(got), "%s changed", path)
}
