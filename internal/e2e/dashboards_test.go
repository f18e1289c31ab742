package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-zitadel/zitadeltelemetry/dashboards"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/prometheustest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
)

// dashboardConfig counts every resource the dashboard shows (user_by_state is
// opt-in) and exposes the counts the way dashboards/README.md asks: with the
// system, instance and version as labels. The collector's own metrics are served too,
// for the alerts that read them; the activity is read from the events the
// simulated ZITADEL wrote (sampleActivityWrites); a second receiver, of a ZITADEL nobody serves,
// fails every scrape, so that the failing-scrape alert reads series that exist.
var dashboardConfig = template.Must(template.New("config").Parse(receiverYAML + activityYAML + `    resources: [organization, iam_admin, identity_provider, identity_provider_ldap, action_v1, execution,
      execution_target, session, user, user_machine, login_policy, enforce_mfa, password_complexity_policy,
      password_expiry_policy, lockout_policy, password_change_notification, project, application, authorization,
      organization_enforce_mfa, organization_custom_login_policy, organization_verified_custom_domain, user_by_state]
  zitadel/unreachable:
    initial_delay: 0s
    api:
      endpoint: 127.0.0.1:1
      tls:
        insecure: true
      token: a-token-nobody-checks
      retry:
        max_retries: 0
` + labelledPrometheusYAML + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadel, zitadel/unreachable]
      exporters: [prometheus]
`))

const prometheusConfig = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yaml]
scrape_configs:
  - job_name: otelcol-zitadel
    static_configs: [{targets: ["%s"]}]
  - job_name: otelcol-zitadel-telemetry
    static_configs: [{targets: ["%s"]}]
`

// startDashboardStack runs the built collector against the simulated
// ZITADEL and a real Prometheus scraping it, with the rules loaded and every
// group evaluated each second; it returns once the counts and every recorded
// series are there.
func startDashboardStack(t *testing.T, orgsPerInstance int) (*pipeline, *prometheustest.Server) {
	t.Helper()
	file, err := dashboards.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	telemetryAddr := freeAddr(t)
	_, port, _ := strings.Cut(telemetryAddr, ":")
	activity := map[string]fakezitadel.SampleActivity{}
	p := startPipelineWith(t, pipelineOptions{
		config: dashboardConfig, orgsPerInstance: orgsPerInstance,
		values: configValues{Interval: time.Hour, TelemetryPort: port}, configureZitadel: sampleActivityWrites(activity),
	})
	p.activity = activity
	prom := prometheustest.Start(t, fmt.Sprintf(prometheusConfig, p.promAddr, telemetryAddr),
		map[string][]byte{"rules.yaml": rulesEveryInterval(t, file, "1s")})
	var recorded []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded = append(recorded, r.Record)
			}
		}
	}
	// The unreachable receiver's failures too, which the failing-scrape alert reads.
	waitForData(t, prom, p, append(recorded, `otelcol_zitadel_receiver_scrape_duration_count{receiver="zitadel/unreachable", outcome="failed"}`))
	return p, prom
}

// TestDashboardQueriesOnPrometheus: the built collector scrapes the simulated
// ZITADEL, a real Prometheus scrapes the collector with the rules loaded, and
// every dashboard query and every rule is evaluated through Prometheus' API.
func TestDashboardQueriesOnPrometheus(t *testing.T) {
	p, prom := startDashboardStack(t, 20)
	ctx := context.Background()
	check := exposedNames{prom: prom}

	// The check itself refuses what the collector does not expose.
	if err := check.names(ctx, `sum by (zitadel_instance_id) (zitadel_resource_count{zitadel_resource_name="user"})`); err != nil {
		t.Fatalf("a query of exposed names was refused: %v", err)
	}
	if err := check.names(ctx, `avg_over_time(zitadel_resource_count{zitadel_resource_name="user"}[1h] offset 5m)`); err != nil {
		t.Fatalf("a query with an offset was refused: %v", err)
	}
	for _, expr := range []string{
		`zitadel_resource_counts`,
		`zitadel_resource_count{zitadel_org_id="1"}`,
		`zitadel_resource_count{zitadel_resource_name="organisation"}`,
		`sum by (zitadel_organization_id) (zitadel_resource_count)`,
		`zitadel_resource_count / on (zitadel_instance) group_left zitadel_resource_count`,
		`rate(otelcol_scraper_errored_metric_points_total[5m])`,
	} {
		if err := check.names(ctx, expr); err == nil {
			t.Errorf("the name check accepted %s", expr)
		}
	}

	d, err := dashboards.LoadDashboard()
	if err != nil {
		t.Fatal(err)
	}
	file, err := dashboards.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"system": systemID, "instance": strings.Join(instanceIDs(p), "|"), "datasource": "prometheus",
		"__rate_interval": "1m",
	}

	for _, v := range []string{"system", "instance"} {
		def, _ := d.Variable(v)
		values := check.variableValues(ctx, t, dashboards.Expand(def.Query, vars))
		want := []string{systemID}
		if v == "instance" {
			want = instanceIDs(p)
		}
		slices.Sort(values)
		if !slices.Equal(values, want) {
			t.Errorf("variable %s: %v, want %v", v, values, want)
		}
	}
	for _, q := range d.Queries() {
		expr := dashboards.Expand(q.Expr, vars)
		if strings.Contains(expr, "$") {
			t.Errorf("panel %s: a variable is left after substitution: %s", q.Panel, expr)
		}
		check.mustReturnData(ctx, t, "panel "+q.Panel, expr)
	}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				check.mustReturnData(ctx, t, "rule "+r.Record, r.Expr)
				check.mustReturnData(ctx, t, "recorded "+r.Record, r.Record)
				continue
			}
			if err := check.names(ctx, r.Expr); err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
			}
			if _, err := prom.Query(ctx, r.Expr); err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
			}
		}
	}

	// The totals per instance equal the dataset's, through the recorded series and
	// through the dashboard's panels.
	for _, in := range p.dataset.Instances {
		users, projects, apps := 0, 0, 0
		for _, o := range in.Orgs {
			users += o.Users
			projects += len(o.Projects)
			apps += o.Apps()
		}
		for resource, want := range map[string]int{"user": users, "project": projects, "application": apps} {
			expr := fmt.Sprintf(`zitadel_instance:zitadel_resource_count:sum{zitadel_system_id=%q, zitadel_instance_id=%q, zitadel_resource_name=%q}`,
				systemID, in.ID, resource)
			assertSingleValue(ctx, t, prom, expr, float64(want))
		}
		panelVars := map[string]string{"system": systemID, "instance": in.ID}
		for title, want := range map[string]int{"Users": users, "Projects": projects, "Applications": apps} {
			q := panelQuery(t, d, title)
			assertSingleValue(ctx, t, prom, dashboards.Expand(q, panelVars), float64(want))
		}
	}
	assertSingleValue(ctx, t, prom, dashboards.Expand(panelQuery(t, d, "Instances"), vars), float64(len(p.dataset.Instances)))
	assertActivityPanels(ctx, t, prom, p, d, vars)
}

// rulesEveryInterval is the rules file with every group evaluated at interval,
// so that a test sees the growth group without waiting ten minutes.
func rulesEveryInterval(t *testing.T, f dashboards.RuleFile, interval string) []byte {
	t.Helper()
	for i := range f.Groups {
		f.Groups[i].Interval = interval
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func instanceIDs(p *pipeline) []string {
	var ids []string
	for _, in := range p.dataset.Instances {
		ids = append(ids, in.ID)
	}
	slices.Sort(ids)
	return ids
}

// waitForData waits until Prometheus holds the collector's counts and every
// recorded series has at least two samples (a delta needs two).
func waitForData(t *testing.T, prom *prometheustest.Server, p *pipeline, recorded []string) {
	t.Helper()
	ctx := context.Background()
	want := len(p.dataset.Instances)
	// Every instance's count, as a threshold of its own, so that an empty
	// answer alone means "not yet".
	exprs := []string{fmt.Sprintf(`count(count_over_time(zitadel_resource_count{zitadel_parent_type="instance",zitadel_resource_name="organization"}[1h]) >= 2) >= %d`, want)}
	for _, r := range recorded {
		exprs = append(exprs, fmt.Sprintf("count(count_over_time(%s[1h]) >= 2)", r))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		missing := ""
		for _, e := range exprs {
			got, err := prom.Query(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				missing = e
				break
			}
		}
		if missing == "" {
			return
		}
		if !p.collector.running() {
			t.Fatalf("collector exited: %v", p.collector.err)
		}
		if time.Now().After(deadline) {
			targets, _ := prom.Targets(ctx)
			t.Fatalf("no data after 2m for %s; targets: %v", missing, targets)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func panelQuery(t *testing.T, d dashboards.Dashboard, title string) string {
	t.Helper()
	for _, p := range d.AllPanels() {
		if p.Title == title && len(p.Targets) == 1 {
			return p.Targets[0].Expr
		}
	}
	t.Fatalf("no panel %q with one query", title)
	return ""
}

func assertSingleValue(ctx context.Context, t *testing.T, prom *prometheustest.Server, expr string, want float64) {
	t.Helper()
	got, err := prom.Query(ctx, expr)
	if err != nil {
		t.Errorf("%s: %v", expr, err)
		return
	}
	if len(got) != 1 || math.Abs(got[0].Value-want) > 1e-9 {
		t.Errorf("%s = %v, want one value %v", expr, got, want)
	}
}

// TestServicePingJoinOnPrometheus runs the shipped service-ping example as
// it is, receives a report the way ZITADEL sends it, and evaluates the
// README's join of the counts with zitadel.instance.info on a real
// Prometheus: every name it uses is exposed, and every user count gets its
// instance's version and domains.
func TestServicePingJoinOnPrometheus(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/examples/zitadel-service-ping.yaml")
	require.NoError(t, err)
	example := string(raw)
	httpAddr, healthAddr, promAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	// Only the addresses are the test's own, and the collector's own
	// metrics are off so that its default port is never in the way.
	config := strings.NewReplacer("0.0.0.0:4320", httpAddr, "127.0.0.1:13133", healthAddr,
		"\nservice:\n", "\nservice:\n  telemetry:\n    metrics:\n      level: none\n").Replace(example)
	require.NotEqual(t, example, config)
	path := filepath.Join(t.TempDir(), "zitadel-service-ping.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	t.Setenv("ZITADEL_PING_PATH_SECRET", pathSecret)
	t.Setenv("ZITADEL_REPORT_ID_KEY", "e2e-report-key-of-the-service-ping-example")
	t.Setenv("PROMETHEUS_ENDPOINT", promAddr)
	c := startCollector(t, collectorBinary(t), path)
	waitForListener(t, c, httpAddr)

	base, rows := contracttest.Report("e2e-join-system", 2, 3)
	ping := &servicepingclient.Client{Endpoint: "http://" + httpAddr + "/zitadel/ping/" + pathSecret, HTTP: newHTTPClient(t)}
	require.NoError(t, ping.Report(context.Background(), base, rows, 1000))

	prom := prometheustest.Start(t, fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: otelcol-zitadel
    static_configs: [{targets: ["%s"]}]
`, promAddr), nil)
	join := readmeJoin(t)
	ctx := context.Background()
	users := 0
	for _, r := range rows {
		if r.ResourceName == "user" {
			users++
		}
	}
	var got []prometheustest.Sample
	require.Eventually(t, func() bool {
		got, err = prom.Query(ctx, join)
		require.NoError(t, err)
		return len(got) == users
	}, time.Minute, 200*time.Millisecond, "the README's join %s returns %d series, want %d", join, len(got), users)
	require.NoError(t, exposedNames{prom: prom}.names(ctx, join))
	for _, s := range got {
		assert.Equal(t, base.Version, s.Metric["zitadel_version"], "%v", s.Metric)
		assert.NotEmpty(t, s.Metric["zitadel_instance_domains"], "%v", s.Metric)
	}
	// The example's own comment names the metrics the same way.
	comment, _, _ := strings.Cut(example, "\nextensions:")
	for _, name := range regexp.MustCompile(`zitadel_[a-z_]+`).FindAllString(comment, -1) {
		if name == "zitadel_instance_id" {
			continue // a label
		}
		series, err := prom.Series(ctx, name)
		require.NoError(t, err)
		assert.NotEmpty(t, series, "the example's comment names %s, which Prometheus does not hold", name)
	}
}

// readmeJoin is the README's PromQL join of the counts with zitadel.instance.info.
func readmeJoin(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../zitadeltelemetryreceiver/README.md")
	require.NoError(t, err)
	for _, block := range regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(block[1], "group_left") && strings.Contains(block[1], "zitadel_instance_info") {
			return strings.TrimSpace(block[1])
		}
	}
	t.Fatal("zitadeltelemetryreceiver/README.md has no PromQL join with zitadel_instance_info")
	return ""
}
