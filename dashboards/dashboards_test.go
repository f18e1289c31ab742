package dashboards

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/prometheustest"
)

// TestDashboardImports holds the dashboard to what Grafana needs to import it
// as it is, into any Grafana with any Prometheus data source.
func TestDashboardImports(t *testing.T) {
	d, err := LoadDashboard()
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || len(d.UID) > 40 {
		t.Errorf("uid %q: Grafana needs one of 1 to 40 characters", d.UID)
	}
	if d.Title == "" {
		t.Error("no title")
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: data sources by uid need 36 or later", d.SchemaVersion)
	}
	if d.ID != nil {
		t.Errorf("id %d: an exported dashboard has id null, or the import overwrites another", *d.ID)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(Grafana, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["__inputs"]; ok {
		t.Error("__inputs asks for a data source at import; the datasource variable chooses it")
	}

	ds, ok := d.Variable("datasource")
	if !ok || ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Fatalf("no datasource variable of type datasource for prometheus: %+v", ds)
	}
	for _, name := range []string{"system", "instance"} {
		v, ok := d.Variable(name)
		if !ok || v.Type != "query" || !strings.HasPrefix(v.Query, "label_values(") {
			t.Errorf("no query variable %q of label_values", name)
			continue
		}
		if v.Definition != v.Query {
			t.Errorf("variable %s: definition %q differs from the query %q", name, v.Definition, v.Query)
		}
		checkDatasource(t, "variable "+name, v.Datasource)
	}

	ids := map[int]string{}
	queries := 0
	for _, p := range d.AllPanels() {
		if other, dup := ids[p.ID]; dup || p.ID <= 0 {
			t.Errorf("panel %q has id %d, also %q's (ids must be unique and positive)", p.Title, p.ID, other)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		checkDatasource(t, "panel "+p.Title, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			checkDatasource(t, "panel "+p.Title+" query "+tg.RefID, tg.Datasource)
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q query %s is empty", p.Title, tg.RefID)
			}
			queries++
		}
	}
	if queries == 0 {
		t.Error("the dashboard has no queries")
	}
}

// checkDatasource: every reference goes through the variable, never a uid of
// one Grafana's data source.
func checkDatasource(t *testing.T, where string, ds *Datasource) {
	t.Helper()
	if ds == nil {
		t.Errorf("%s: no data source (Grafana would use its default, not the chosen one)", where)
		return
	}
	if ds.UID != "${datasource}" && ds.UID != "$datasource" {
		t.Errorf("%s: data source uid %q is hard-coded; use ${datasource}", where, ds.UID)
	}
	if ds.Type != "prometheus" {
		t.Errorf("%s: data source type %q, want prometheus", where, ds.Type)
	}
}

// TestRulesEveryAlertHasASummaryAndARunbook keeps the alerts and the README's
// runbook together.
func TestRulesEveryAlertHasASummaryAndARunbook(t *testing.T) {
	f, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, "README.md")
	alerts := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if r.Annotations["summary"] == "" {
				t.Errorf("alert %s has no summary", r.Alert)
			}
			if !strings.Contains(readme, "| `"+r.Alert+"` |") {
				t.Errorf("alert %s has no runbook line in dashboards/README.md", r.Alert)
			}
		}
	}
	if alerts == 0 {
		t.Error("no alerting rules")
	}
}

// TestRulesWithPromtool checks the rules file and runs its unit tests: input
// series for every rule, growth over weeks, a stale count, failing scrapes,
// a surge of failed password checks.
func TestRulesWithPromtool(t *testing.T) {
	promtool := prometheustest.Binary(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "zitadel-rules.yaml"},
		{"test", "rules", "zitadel-rules.test.yaml", "zitadel-growth.test.yaml", "zitadel-activity.test.yaml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestRulesTestsCoverEveryRule: every recorded series is asserted and every
// alert is expected to fire somewhere in the promtool tests.
func TestRulesTestsCoverEveryRule(t *testing.T) {
	f, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	tests := readFile(t, "zitadel-rules.test.yaml") + readFile(t, "zitadel-growth.test.yaml") + readFile(t, "zitadel-activity.test.yaml")
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			switch {
			case r.Record != "" && !strings.Contains(tests, "labels: '"+r.Record+"{"):
				t.Errorf("recording rule %s: no expected sample in the promtool tests", r.Record)
			case r.Alert != "" && !firesInTests(tests, r.Alert):
				t.Errorf("alert %s: the promtool tests never expect it to fire", r.Alert)
			}
		}
	}
}

// firesInTests reports whether an alert_rule_test of the alert lists exp_alerts.
func firesInTests(tests, alert string) bool {
	blocks := strings.Split(tests, "- alertname: ")
	for _, b := range blocks[1:] {
		if strings.HasPrefix(b, alert+"\n") && strings.Contains(b, "exp_alerts:") {
			return true
		}
	}
	return false
}
