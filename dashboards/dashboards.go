// Package dashboards holds the Grafana dashboard and the Prometheus rules for
// the counts otelcol-zitadel exposes, and reads them for the tests that hold
// them against a real Prometheus.
package dashboards

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Grafana is the dashboard, importable as it is.
//
//go:embed zitadel-capacity.json
var Grafana []byte

// Rules is the Prometheus rules file the dashboard reads and the alerts live in.
//
//go:embed zitadel-rules.yaml
var Rules []byte

// Dashboard is the part of Grafana's dashboard model the checks read.
type Dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	ID            *int    `json:"id"`
	Panels        []Panel `json:"panels"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is one panel; a row holds its panels when it is collapsed.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	Targets    []Target    `json:"targets"`
	Panels     []Panel     `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Datasource names a data source by type and uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is a template variable: Query is the data-source type of a
// datasource variable and the PromQL (label_values) of a query variable.
type Variable struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Query      string      `json:"query"`
	Definition string      `json:"definition"`
	Datasource *Datasource `json:"datasource"`
}

// LoadDashboard decodes the embedded dashboard.
func LoadDashboard() (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(Grafana, &d); err != nil {
		return d, fmt.Errorf("zitadel-capacity.json: %w", err)
	}
	return d, nil
}

// AllPanels returns every panel, those inside rows included.
func (d Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Query is one PromQL expression of the dashboard, named by where it is.
type Query struct {
	Panel string // panel title and refId
	Expr  string
}

// Queries returns every panel query.
func (d Dashboard) Queries() []Query {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{Panel: p.Title + "/" + t.RefID, Expr: t.Expr})
		}
	}
	return out
}

// Variable returns the template variable called name.
func (d Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// Expand substitutes the template variables ($name and ${name}) in expr, the
// way Grafana does before it sends the query.
func Expand(expr string, values map[string]string) string {
	pairs := make([]string, 0, 4*len(values))
	for name, v := range values {
		pairs = append(pairs, "${"+name+"}", v, "$"+name, v)
	}
	return strings.NewReplacer(pairs...).Replace(expr)
}

// RuleFile is Prometheus' rules file format.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of rules, evaluated together.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is a recording or an alerting rule.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// LoadRules decodes the embedded rules file.
func LoadRules() (RuleFile, error) {
	var f RuleFile
	if err := yaml.Unmarshal(Rules, &f); err != nil {
		return f, fmt.Errorf("zitadel-rules.yaml: %w", err)
	}
	return f, nil
}
