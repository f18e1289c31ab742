package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// reportedSystem is one system's deduplicated report, decoded from the
// telemetry endpoint's admin listener.
type reportedSystem struct {
	base   *analytics.ReportBaseInformationRequest
	counts *analytics.ReportResourceCountsRequest
}

func fetchState(ctx context.Context, admin string) ([]reportedSystem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/state", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var raw []systemState
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	out := make([]reportedSystem, 0, len(raw))
	for _, r := range raw {
		s := reportedSystem{base: &analytics.ReportBaseInformationRequest{}, counts: &analytics.ReportResourceCountsRequest{}}
		if err := protojson.Unmarshal(r.Base, s.base); err != nil {
			return nil, err
		}
		if err := protojson.Unmarshal(r.Counts, s.counts); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// totals sums the amounts of one resource under one parent type, per instance.
type totals map[string]map[string]uint64 // instance id -> "parent/resource" -> amount

func totalsOf(rows []*analytics.ResourceCount) totals {
	t := totals{}
	for _, r := range rows {
		key := parentName(r.GetParentType()) + "/" + r.GetResourceName()
		if t[r.GetInstanceId()] == nil {
			t[r.GetInstanceId()] = map[string]uint64{}
		}
		t[r.GetInstanceId()][key] += uint64(r.GetAmount())
	}
	return t
}

func parentName(p analytics.CountParentType) string {
	if p == analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION {
		return "organization"
	}
	return "instance"
}

// The capacity-planning view: instance totals come from instance-level rows,
// projects and applications from the per-organization rows.
var summaryColumns = []struct{ title, key string }{
	{"orgs", "instance/organization"},
	{"users", "instance/user"},
	{"machine users", "instance/user_machine"},
	{"projects", "organization/project"},
	{"apps", "organization/application"},
	{"active sessions", "instance/session"},
}

func printSummary(w io.Writer, systems []reportedSystem) error {
	for _, s := range systems {
		t := totalsOf(s.counts.GetResourceCounts())
		fmt.Fprintf(w, "system %s  (ZITADEL %s)\n", s.base.GetSystemId(), s.base.GetVersion())
		fmt.Fprintf(w, "%d instances, %d resource counts\n\n", len(s.base.GetInstances()), len(s.counts.GetResourceCounts()))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "instance\tprimary domain\t")
		for _, c := range summaryColumns {
			fmt.Fprintf(tw, "%s\t", c.title)
		}
		fmt.Fprintln(tw)
		sum := map[string]uint64{}
		for _, in := range s.base.GetInstances() {
			domain := ""
			if len(in.GetDomains()) > 0 {
				domain = in.GetDomains()[0]
			}
			fmt.Fprintf(tw, "%s\t%s\t", in.GetId(), domain)
			for _, c := range summaryColumns {
				v := t[in.GetId()][c.key]
				sum[c.key] += v
				fmt.Fprintf(tw, "%d\t", v)
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprint(tw, "all\t\t")
		for _, c := range summaryColumns {
			fmt.Fprintf(tw, "%d\t", sum[c.key])
		}
		fmt.Fprintln(tw)
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nusers per organization     %8.1f\n", ratio(sum["instance/user"], sum["instance/organization"]))
		fmt.Fprintf(w, "projects per organization  %8.1f\n", ratio(sum["organization/project"], sum["instance/organization"]))
		fmt.Fprintf(w, "applications per project   %8.1f\n", ratio(sum["organization/application"], sum["organization/project"]))
	}
	return nil
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// observations is the span of the rows' observation times.
type observations struct{ oldest, newest time.Time }

func observedAt(rows []*analytics.ResourceCount) observations {
	var o observations
	for _, r := range rows {
		at := r.GetUpdatedAt().AsTime()
		if o.oldest.IsZero() || at.Before(o.oldest) {
			o.oldest = at
		}
		if at.After(o.newest) {
			o.newest = at
		}
	}
	return o
}

// growthColumns are the totals the growth line compares.
var growthColumns = summaryColumns[:5]

// printGrowth compares two reports of each system: what the installation
// gained between the two scrapes, absolute and relative to the first.
func printGrowth(w io.Writer, before, after []reportedSystem) {
	first := map[string]reportedSystem{}
	for _, s := range before {
		first[s.base.GetSystemId()] = s
	}
	for _, s := range after {
		b, ok := first[s.base.GetSystemId()]
		if !ok {
			continue
		}
		was, is := sumTotals(b.counts.GetResourceCounts()), sumTotals(s.counts.GetResourceCounts())
		apart := observedAt(s.counts.GetResourceCounts()).newest.Sub(observedAt(b.counts.GetResourceCounts()).newest)
		parts := make([]string, 0, len(growthColumns))
		for _, c := range growthColumns {
			part := fmt.Sprintf("%s %+d", c.title, int64(is[c.key])-int64(was[c.key]))
			if was[c.key] > 0 { // growth from nothing has no rate
				part += fmt.Sprintf(" (%+.1f%%)", 100*(ratio(is[c.key], was[c.key])-1))
			}
			parts = append(parts, part)
		}
		fmt.Fprintf(w, "\ngrowth between two scrapes %s apart: %s\n", apart.Round(100*time.Millisecond), strings.Join(parts, ", "))
	}
}

// sumTotals adds up a report's totals over its instances.
func sumTotals(rows []*analytics.ResourceCount) map[string]uint64 {
	sum := map[string]uint64{}
	for _, byKey := range totalsOf(rows) {
		for k, v := range byKey {
			sum[k] += v
		}
	}
	return sum
}
