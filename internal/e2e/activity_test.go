package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"text/template"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/dashboards"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/prometheustest"
)

// activityYAML turns on the activity; it follows receiverYAML's api block.
const activityYAML = `    activity:
      enabled: true
`

// labelledPrometheusYAML exposes the counts the way dashboards/README.md asks:
// with the system, instance and version as labels.
const labelledPrometheusYAML = `exporters:
  prometheus:
    endpoint: {{.PromAddr}}
    metric_expiration: 2h
    resource_constant_labels:
      included: [zitadel.system.id, zitadel.instance.id, zitadel.version]
`

// sampleActivityWrites writes a month of sample activity into every
// instance of the simulated ZITADEL before the collector starts, and keeps
// what each holds in out.
func sampleActivityWrites(out map[string]fakezitadel.SampleActivity) func(*fakezitadel.Server) {
	return func(s *fakezitadel.Server) {
		now := time.Now().UTC()
		for _, in := range s.Dataset().Instances {
			out[in.ID] = s.WriteSampleActivity(in.ID, now)
		}
	}
}

// assertActivityPanels holds the Activity row of the dashboard to the
// simulated ZITADEL's events: the active users of each instance per window,
// the applications logged in to, the factors of the failed checks and the
// lockouts.
func assertActivityPanels(ctx context.Context, t *testing.T, prom *prometheustest.Server, p *pipeline, d dashboards.Dashboard, vars map[string]string) {
	t.Helper()
	if len(p.activity) != len(p.dataset.Instances) {
		t.Fatalf("sample activity in %d of %d instances", len(p.activity), len(p.dataset.Instances))
	}
	apps := map[string]bool{}
	factors := map[string]bool{}
	var humans [3]int
	for _, in := range p.dataset.Instances {
		sa := p.activity[in.ID]
		panelVars := map[string]string{"system": systemID, "instance": in.ID}
		for i, title := range []string{"Daily active users", "Weekly active users", "Monthly active users"} {
			assertSingleValue(ctx, t, prom, dashboards.Expand(panelQuery(t, d, title), panelVars), float64(sa.HumansActive[i]))
			humans[i] += sa.HumansActive[i]
		}
		assertSingleValue(ctx, t, prom, dashboards.Expand(panelQuery(t, d, "Active machine users, 30 days"), panelVars), float64(sa.MachinesActive[2]))
		for app := range sa.Logins {
			apps[app] = true
		}
		if sa.PasswordFailed > 0 {
			factors["password"] = true
		}
		if sa.OTPSMSFailed > 0 {
			factors["otp_sms"] = true
		}
	}

	over := map[string]float64{}
	for _, s := range panelSamples(ctx, t, prom, d, "Active users over time", "A", vars) {
		over[s.Metric["zitadel_activity_window"]] = s.Value
	}
	if want := map[string]float64{"1d": float64(humans[0]), "7d": float64(humans[1]), "30d": float64(humans[2])}; !maps.Equal(over, want) {
		t.Errorf("active users over time: %v, want %v", over, want)
	}
	assertLabelValues(t, "logins per application", panelSamples(ctx, t, prom, d, "Logins per application", "A", vars),
		"zitadel_application_id", slices.Collect(maps.Keys(apps)))
	assertLabelValues(t, "failed checks", panelSamples(ctx, t, prom, d, "Failed checks and lockouts", "A", vars),
		"zitadel_check_factor", slices.Collect(maps.Keys(factors)))
	if got := panelSamples(ctx, t, prom, d, "Failed checks and lockouts", "B", vars); len(got) != 1 {
		t.Errorf("lockouts: %v, want one series", got)
	}
}

// panelSamples evaluates one query of a panel.
func panelSamples(ctx context.Context, t *testing.T, prom *prometheustest.Server, d dashboards.Dashboard, title, refID string, vars map[string]string) []prometheustest.Sample {
	t.Helper()
	for _, q := range d.Queries() {
		if q.Panel != title+"/"+refID {
			continue
		}
		got, err := prom.Query(ctx, dashboards.Expand(q.Expr, vars))
		if err != nil {
			t.Fatalf("panel %s: %v", q.Panel, err)
		}
		return got
	}
	t.Fatalf("no query %s of panel %q", refID, title)
	return nil
}

func assertLabelValues(t *testing.T, what string, samples []prometheustest.Sample, label string, want []string) {
	t.Helper()
	var got []string
	for _, s := range samples {
		got = append(got, s.Metric[label])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %s %v, want %v", what, label, got, want)
	}
}

// activityStoredConfig scrapes only organizations and the activity, and
// keeps the activity in a file_storage directory, so that a restarted
// collector reads on where it stopped: what a run does to make it read the
// events written since (collection_interval is at least a minute).
func activityStoredConfig(storageDir string) *template.Template {
	return template.Must(template.New("config").Parse(receiverYAML + activityYAML + `      storage: file_storage
    resources: [organization]
extensions:
  file_storage:
    directory: ` + storageDir + `
` + labelledPrometheusYAML + serviceTelemetryYAML + `  extensions: [file_storage]
  pipelines:
    metrics:
      receivers: [zitadel]
      exporters: [prometheus]
`))
}

// restart stops the collector and starts it again with the same configuration.
func (p *pipeline) restart(t *testing.T) {
	t.Helper()
	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
	p.collector = startCollector(t, collectorBinary(t), p.configPath)
}

// TestCredentialStuffingAlertOnPrometheus: a real Prometheus with the rules
// scrapes the built collector reading the simulated ZITADEL's events; the
// collector is restarted to read the events written since.
// ZitadelCredentialStuffing is inactive before any surge; a surge of failed
// password checks in one instance makes it pending for that instance only,
// while a few failures in the other do not; a surge of lockouts there then
// makes it pending for that one too.
func TestCredentialStuffingAlertOnPrometheus(t *testing.T) {
	activity := map[string]fakezitadel.SampleActivity{}
	p := startPipelineWith(t, pipelineOptions{config: activityStoredConfig(t.TempDir()), orgsPerInstance: 2,
		values: configValues{Interval: time.Hour}, configureZitadel: sampleActivityWrites(activity)})
	if len(p.dataset.Instances) < 2 {
		t.Fatalf("%d instances: the test needs two", len(p.dataset.Instances))
	}
	file, err := dashboards.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	// The collector serves no metrics of its own here: that target stays down.
	prom := prometheustest.Start(t, fmt.Sprintf(prometheusConfig, p.promAddr, freeAddr(t)),
		map[string][]byte{"rules.yaml": rulesEveryInterval(t, file, "1s")})
	ctx := context.Background()
	waitForQuery(t, prom, p, fmt.Sprintf(`count(count_over_time(zitadel_instance:lockouts:increase10m[1h]) >= 3) >= %d`, len(p.dataset.Instances)))
	alerts := `ALERTS{alertname="ZitadelCredentialStuffing"}`
	assertAlertedInstances(ctx, t, prom, alerts)

	attacked, other := p.dataset.Instances[0], p.dataset.Instances[1]
	orgOf := func(in *fakezitadel.Instance) *fakezitadel.Org {
		for _, o := range in.Orgs {
			if o.ID == activity[in.ID].FailedOrg {
				return o
			}
		}
		t.Fatalf("instance %s: no organization %s", in.ID, activity[in.ID].FailedOrg)
		return nil
	}
	p.zitadel.FailPasswordChecks(attacked.ID, orgOf(attacked), time.Now().UTC(), 80, 0)
	p.zitadel.FailPasswordChecks(other.ID, orgOf(other), time.Now().UTC(), 10, 2)
	p.restart(t)
	waitForQuery(t, prom, p, fmt.Sprintf(`zitadel_instance:lockouts:increase10m{zitadel_instance_id=%q} >= 2`, other.ID))
	waitForQuery(t, prom, p, alerts)
	assertAlertedInstances(ctx, t, prom, alerts, attacked.ID)

	p.zitadel.FailPasswordChecks(other.ID, orgOf(other), time.Now().UTC(), 6, 6)
	p.restart(t)
	waitForQuery(t, prom, p, `count(`+alerts+`) >= 2`)
	assertAlertedInstances(ctx, t, prom, alerts, attacked.ID, other.ID)
}

func assertAlertedInstances(ctx context.Context, t *testing.T, prom *prometheustest.Server, alerts string, want ...string) {
	t.Helper()
	got, err := prom.Query(ctx, alerts)
	if err != nil {
		t.Fatal(err)
	}
	var instances []string
	for _, s := range got {
		instances = append(instances, s.Metric["zitadel_instance_id"])
	}
	slices.Sort(instances)
	slices.Sort(want)
	if !slices.Equal(instances, want) {
		t.Errorf("the alert is active for %v, want %v", instances, want)
	}
}

// waitForQuery waits up to a minute until expr returns data.
func waitForQuery(t *testing.T, prom *prometheustest.Server, p *pipeline, expr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := prom.Query(context.Background(), expr)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			return
		}
		if !p.collector.running() {
			t.Fatalf("collector exited: %v", p.collector.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no data after 1m for %s", expr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
