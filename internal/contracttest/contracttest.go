// Package contracttest compares what a receiver emitted with the reports it
// was sent, through the metric contract's names written out as literals, so
// that a test never holds the code against its own constants.
package contracttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// Emitted is what a receiver emitted, flattened into comparable lines; the
// contract's names are literals here.
type Emitted struct {
	Rows      []string // system|instance|parent type|parent|resource|table|amount[|updated_at]
	Instances []string // system|version|instance|domains|creation date
	Other     []string // anything else
}

func Flatten(t testing.TB, all []pmetric.Metrics) Emitted {
	t.Helper()
	var out Emitted
	str := func(m pcommon.Map, k string) string {
		if v, ok := m.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	for _, md := range all {
		for _, rm := range md.ResourceMetrics().All() {
			res := rm.Resource().Attributes()
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					switch m.Name() {
					case "zitadel.resource.count":
						require.Equal(t, pmetric.MetricTypeSum, m.Type())
						require.False(t, m.Sum().IsMonotonic())
						require.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
						require.Equal(t, "{resource}", m.Unit())
						for _, dp := range m.Sum().DataPoints().All() {
							a := dp.Attributes()
							line := strings.Join([]string{
								str(res, "zitadel.system.id"), str(res, "zitadel.instance.id"),
								str(a, "zitadel.parent.type"), str(a, "zitadel.parent.id"), str(a, "zitadel.resource.name"),
								str(a, "zitadel.table.name"), fmt.Sprint(dp.IntValue()),
							}, "|")
							if u, ok := a.Get("zitadel.count.updated_at"); ok {
								line += "|" + u.Str()
							}
							out.Rows = append(out.Rows, line)
						}
					case "zitadel.instance.info":
						require.Equal(t, pmetric.MetricTypeGauge, m.Type())
						require.Equal(t, 1, m.Gauge().DataPoints().Len())
						require.Equal(t, int64(1), m.Gauge().DataPoints().At(0).IntValue())
						var domains []string
						if v, ok := res.Get("zitadel.instance.domains"); ok {
							for _, d := range v.Slice().All() {
								domains = append(domains, d.Str())
							}
						}
						out.Instances = append(out.Instances, strings.Join([]string{
							str(res, "zitadel.system.id"), str(res, "zitadel.version"),
							str(res, "zitadel.instance.id"), strings.Join(domains, ","), str(res, "zitadel.instance.creation_date"),
						}, "|"))
					default:
						out.Other = append(out.Other, m.Name())
					}
				}
			}
		}
	}
	return out
}

// ExpectedRows is what the rows of a report must become.
func ExpectedRows(systemID string, rows []*analytics.ResourceCount, withUpdatedAt bool) []string {
	out := make([]string, 0, len(rows))
	for _, rc := range rows {
		parent := map[analytics.CountParentType]string{
			analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE:     "instance",
			analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION: "organization",
		}[rc.ParentType]
		line := strings.Join([]string{systemID, rc.InstanceId, parent, rc.ParentId, rc.ResourceName, rc.TableName, fmt.Sprint(rc.Amount)}, "|")
		if withUpdatedAt && rc.UpdatedAt != nil {
			line += "|" + rc.UpdatedAt.AsTime().Format(time.RFC3339Nano)
		}
		out = append(out, line)
	}
	return out
}

// ExpectedInstances is what the instances of a base information must become.
func ExpectedInstances(base *analytics.ReportBaseInformationRequest) []string {
	var out []string
	for _, in := range base.Instances {
		out = append(out, strings.Join([]string{
			base.SystemId, base.Version, in.Id, strings.Join(in.Domains, ","),
			in.CreatedAt.AsTime().Format(time.RFC3339Nano),
		}, "|"))
	}
	return out
}

// Report is a report of several instances: per instance its own rows
// and per organization a few resources, with zero amounts (which protojson
// leaves out) and rows without a table.
func Report(systemID string, instances, orgsPerInstance int) (*analytics.ReportBaseInformationRequest, []*analytics.ResourceCount) {
	base := &analytics.ReportBaseInformationRequest{SystemId: systemID, Version: "v4.13.1"}
	var rows []*analytics.ResourceCount
	updated := timestamppb.New(time.Date(2026, 11, 1, 8, 30, 0, 123456000, time.UTC))
	for i := range instances {
		id := fmt.Sprintf("3%017d", 1000+i)
		in := &analytics.InstanceInformation{Id: id, CreatedAt: timestamppb.New(time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC))}
		if i%3 != 2 { // every third instance has no domains: the key is left out
			in.Domains = []string{fmt.Sprintf("acme-%d.zitadel.cloud", i), fmt.Sprintf("login.acme-%d.example.com", i)}
		}
		base.Instances = append(base.Instances, in)
		rows = append(rows, &analytics.ResourceCount{
			InstanceId: id, ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE,
			ParentId: id, ResourceName: "organization", TableName: "projections.orgs1", UpdatedAt: updated, Amount: uint32(orgsPerInstance),
		})
		for o := range orgsPerInstance {
			org := fmt.Sprintf("4%017d", i*orgsPerInstance+o)
			for r, resource := range []string{"user", "user_machine", "project"} {
				rows = append(rows, &analytics.ResourceCount{
					InstanceId: id, ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
					ParentId: org, ResourceName: resource, TableName: "projections.users14", UpdatedAt: updated, Amount: uint32((o * (r + 1)) % 7),
				})
			}
		}
		rows = append(rows, &analytics.ResourceCount{
			InstanceId: id, ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE,
			ParentId: id, ResourceName: "session", Amount: 5,
		}) // no table, no time: an API count
	}
	return base, rows
}

// AssertEmitted checks that got is exactly the report: every row once, every
// instance once, nothing else.
func AssertEmitted(t *testing.T, got Emitted, base *analytics.ReportBaseInformationRequest, rows []*analytics.ResourceCount, withUpdatedAt bool) {
	t.Helper()
	want := ExpectedRows(base.SystemId, rows, withUpdatedAt)
	require.Len(t, got.Rows, len(want))
	slices.Sort(want)
	slices.Sort(got.Rows)
	assert.Equal(t, want, got.Rows)
	assert.ElementsMatch(t, ExpectedInstances(base), got.Instances)
	assert.Empty(t, got.Other)
}

// ZITADELPage is a ReportResourceCounts page as ZITADEL sends it: rows of
// projections.resource_counts in id order, 20 resources per organization, 25
// organizations per instance, every row with its own updated_at.
func ZITADELPage(systemID, reportID string, rows int) *analytics.ReportResourceCountsRequest {
	resources := []string{
		"user", "user_machine", "project", "scim_provisioned_user", "organization", "iam_admin", "identity_provider",
		"identity_provider_ldap", "action_v1", "execution", "execution_target", "login_policy", "enforce_mfa",
		"password_complexity_policy", "password_expiry_policy", "lockout_policy", "password_change_notification",
		"application", "session", "authorization",
	}
	page := &analytics.ReportResourceCountsRequest{SystemId: systemID, ReportId: &reportID, ResourceCounts: make([]*analytics.ResourceCount, rows)}
	for i := range page.ResourceCounts {
		org := i / len(resources)
		page.ResourceCounts[i] = &analytics.ResourceCount{
			InstanceId: fmt.Sprintf("3%017d", org/25), ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
			ParentId: fmt.Sprintf("3%017d", 500000+org), ResourceName: resources[i%len(resources)], TableName: "projections.users14",
			UpdatedAt: timestamppb.New(time.Date(2026, 11, 28, 3, 4, 5, 123456000+i, time.UTC)), Amount: uint32(i % 977),
		}
	}
	return page
}
