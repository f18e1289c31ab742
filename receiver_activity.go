package zitadeltelemetry

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// The activity metrics (api::activity): what happens, beside what exists.
// The exporter reads only zitadel.resource.count, so none of them reaches a
// TelemetryService report.
const (
	metricLogins           = "zitadel.logins"
	metricChecks           = "zitadel.checks"
	metricLockouts         = "zitadel.lockouts"
	metricUsersActive      = "zitadel.users.active"
	metricMilestoneReached = "zitadel.milestone.reached"

	attrLoginProtocol    = "zitadel.login.protocol"
	attrApplicationID    = "zitadel.application.id"
	attrOrganizationID   = "zitadel.organization.id"
	attrLoginKind        = "zitadel.login.kind"
	attrLoginMultiFactor = "zitadel.login.multi_factor"
	attrCheckFactor      = "zitadel.check.factor"
	attrCheckOutcome     = "zitadel.check.outcome"
	attrActivityWindow   = "zitadel.activity.window"
	attrMilestoneType    = "zitadel.milestone.type"
)

func defaultMetricsConfig() MetricsConfig {
	on := MetricConfig{Enabled: true}
	return MetricsConfig{ZitadelResourceCount: on, ZitadelLogins: on, ZitadelChecks: on, ZitadelLockouts: on,
		ZitadelUsersActive: on, ZitadelMilestoneReached: on}
}

// setStorageOwner names this receiver to the source's storage client.
func (s *zitadelScraper) setStorageOwner(id component.ID) {
	if o, ok := s.source.(interface{ SetStorageOwner(component.ID) }); ok {
		o.SetStorageOwner(id)
	}
}

// RecordActivity implements activity.Recorder: the instance's counters,
// active users and milestones, each switchable under metrics.
func (b *metricsBuilder) RecordActivity(instanceID string, r activity.Report) {
	ms := b.instance(instanceID).metrics
	start := pcommon.NewTimestampFromTime(r.Start)
	if b.activity.ZitadelLogins.Enabled && len(r.Logins) > 0 {
		points := counter(ms, metricLogins, "{login}", "Logins (OIDC and SAML sessions and machine grants) since the start time, by application, the user's organization, kind and factors.")
		for _, l := range r.Logins {
			a := b.cumulative(points, start, l.Count)
			a.PutStr(attrLoginProtocol, l.Protocol)
			a.PutStr(attrApplicationID, l.Application)
			a.PutStr(attrOrganizationID, l.Organization)
			a.PutStr(attrLoginKind, l.Kind)
			a.PutBool(attrLoginMultiFactor, l.MultiFactor)
		}
	}
	if b.activity.ZitadelChecks.Enabled && len(r.Checks) > 0 {
		points := counter(ms, metricChecks, "{check}", "Password, OTP and recovery-code checks since the start time, by the user's organization, factor and outcome.")
		for _, c := range r.Checks {
			a := b.cumulative(points, start, c.Count)
			a.PutStr(attrOrganizationID, c.Organization)
			a.PutStr(attrCheckFactor, c.Factor)
			a.PutStr(attrCheckOutcome, c.Outcome)
		}
	}
	if b.activity.ZitadelLockouts.Enabled && len(r.Lockouts) > 0 {
		points := counter(ms, metricLockouts, "{lockout}", "Users locked by the lockout policy since the start time, by organization.")
		for _, l := range r.Lockouts {
			b.cumulative(points, start, l.Count).PutStr(attrOrganizationID, l.Organization)
		}
	}
	if b.activity.ZitadelUsersActive.Enabled && len(r.Active) > 0 {
		points := gauge(ms, metricUsersActive, "{user}", "Distinct users with a login in the window, by parent and user type; exact below 10,000 users of a parent, else estimated (HyperLogLog, 0.81% standard error).")
		for _, u := range r.Active {
			dp := points.AppendEmpty()
			dp.SetTimestamp(b.now)
			dp.SetIntValue(int64(u.Users))
			a := dp.Attributes()
			parentID := u.ParentID
			if u.ParentType == activity.ParentInstance {
				parentID = instanceID
			}
			a.PutStr(attrParentType, u.ParentType)
			a.PutStr(attrParentID, parentID)
			a.PutStr(attrUserType, u.UserType)
			a.PutStr(attrActivityWindow, u.Window)
		}
	}
	if b.activity.ZitadelMilestoneReached.Enabled && len(r.Milestones) > 0 {
		points := gauge(ms, metricMilestoneReached, "s", "When the instance reached each of ZITADEL's milestones, in seconds since the Unix epoch.")
		for _, m := range r.Milestones {
			dp := points.AppendEmpty()
			dp.SetTimestamp(b.now)
			dp.SetIntValue(m.ReachedAt.Unix())
			dp.Attributes().PutStr(attrMilestoneType, m.Type)
		}
	}
}

func (b *metricsBuilder) cumulative(points pmetric.NumberDataPointSlice, start pcommon.Timestamp, n uint64) pcommon.Map {
	dp := points.AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(b.now)
	dp.SetIntValue(int64(n))
	return dp.Attributes()
}

func counter(ms pmetric.MetricSlice, name, unit, description string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(description)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return sum.DataPoints()
}

func gauge(ms pmetric.MetricSlice, name, unit, description string) pmetric.NumberDataPointSlice {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(description)
	return m.SetEmptyGauge().DataPoints()
}
