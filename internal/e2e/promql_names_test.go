package e2e

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/prometheustest"
)

// exposedNames checks PromQL against what Prometheus holds: every selector
// must match series, and every label an expression names (in a matcher, by,
// without, on, ignoring, group_left/right) must exist on the series it reads.
// A typo in a metric, a label or a label value therefore fails, even where
// an `or` or a `sum` would still return data.
type exposedNames struct {
	prom *prometheustest.Server
}

var labelValuesCall = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// variableValues evaluates a Grafana label_values(selector, label) variable
// query the way Grafana's Prometheus data source does.
func (c exposedNames) variableValues(ctx context.Context, t *testing.T, def string) []string {
	t.Helper()
	m := labelValuesCall.FindStringSubmatch(def)
	if m == nil {
		t.Fatalf("variable query %q is not label_values(selector, label)", def)
	}
	if err := c.names(ctx, fmt.Sprintf("count by (%s) (%s)", m[2], m[1])); err != nil {
		t.Errorf("variable query %s: %v", def, err)
	}
	values, err := c.prom.LabelValues(ctx, m[2], m[1])
	if err != nil {
		t.Fatalf("variable query %s: %v", def, err)
	}
	return values
}

// mustReturnData checks the names of expr and that it evaluates to at least one series.
func (c exposedNames) mustReturnData(ctx context.Context, t *testing.T, where, expr string) {
	t.Helper()
	if err := c.names(ctx, expr); err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	got, err := c.prom.Query(ctx, expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
	} else if len(got) == 0 {
		t.Errorf("%s returns no data: %s", where, expr)
	}
}

func (c exposedNames) names(ctx context.Context, expr string) error {
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return err
	}
	var errs []error
	available := map[string]bool{} // labels of every series the expression reads
	var grouping []string          // labels named outside selectors
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			errs = append(errs, c.selector(ctx, n, available))
		case *parser.AggregateExpr:
			grouping = append(grouping, n.Grouping...)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				grouping = append(grouping, n.VectorMatching.MatchingLabels...)
				grouping = append(grouping, n.VectorMatching.Include...)
			}
		case *parser.Call:
			// label_replace and label_join make the label they name.
			if (n.Func.Name == "label_replace" || n.Func.Name == "label_join") && len(n.Args) > 1 {
				if s, ok := n.Args[1].(*parser.StringLiteral); ok {
					available[s.Val] = true
				}
			}
		}
		return nil
	})
	for _, l := range grouping {
		if !available[l] {
			errs = append(errs, fmt.Errorf("label %s is on none of the series the expression reads", l))
		}
	}
	return errors.Join(errs...)
}

func (c exposedNames) selector(ctx context.Context, vs *parser.VectorSelector, available map[string]bool) error {
	// The series API takes matchers only: a selector's offset or @ is left out.
	bare := *vs
	bare.OriginalOffset, bare.Offset, bare.Timestamp, bare.StartOrEnd = 0, 0, nil, 0
	series, err := c.prom.Series(ctx, bare.String())
	if err != nil {
		return err
	}
	if len(series) == 0 {
		return fmt.Errorf("%s matches no series", vs)
	}
	// A matcher can hold for a label a series does not have (l!="x", l=""):
	// the name itself must exist on series of that metric.
	all := series
	if vs.Name != "" {
		if all, err = c.prom.Series(ctx, fmt.Sprintf("{__name__=%q}", vs.Name)); err != nil {
			return err
		}
	}
	have := map[string]bool{}
	for _, s := range all {
		for l := range s {
			have[l] = true
		}
	}
	for _, s := range series {
		for l := range s {
			available[l] = true
		}
	}
	var missing []string
	for _, m := range vs.LabelMatchers {
		if m.Name != model.MetricNameLabel && !have[m.Name] {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%s: no series has the label %s", vs, strings.Join(missing, ", "))
	}
	return nil
}
