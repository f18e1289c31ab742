package contract

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// The activity metrics (activity): what happens, beside what exists.
// The exporter reads only zitadel.resource.count, so none of them reaches a
// TelemetryService report.
const (
	MetricLogins           = "zitadel.logins"
	MetricChecks           = "zitadel.checks"
	MetricLockouts         = "zitadel.lockouts"
	MetricUsersActive      = "zitadel.users.active"
	MetricMilestoneReached = "zitadel.milestone.reached"

	AttrLoginProtocol    = "zitadel.login.protocol"
	AttrApplicationID    = "zitadel.application.id"
	AttrOrganizationID   = "zitadel.organization.id"
	AttrLoginKind        = "zitadel.login.kind"
	AttrLoginMultiFactor = "zitadel.login.multi_factor"
	AttrCheckFactor      = "zitadel.check.factor"
	AttrCheckOutcome     = "zitadel.check.outcome"
	AttrActivityWindow   = "zitadel.activity.window"
	AttrMilestoneType    = "zitadel.milestone.type"
)

// DefaultMetricsConfig switches every metric on; the activity metrics only
// appear with activity::enabled.
func DefaultMetricsConfig() MetricsConfig {
	on := MetricConfig{Enabled: true}
	return MetricsConfig{ZitadelResourceCount: on, ZitadelLogins: on, ZitadelChecks: on, ZitadelLockouts: on,
		ZitadelUsersActive: on, ZitadelMilestoneReached: on}
}

// SwitchActivity sets which activity metrics RecordActivity builds.
func (b *Builder) SwitchActivity(c MetricsConfig) { b.activity = c }

// RecordActivity implements activity.Recorder: the instance's counters,
// active users and milestones, each switchable under metrics.
func (b *Builder) RecordActivity(instanceID string, r activity.Report) {
	ms := b.instance(instanceID).metrics
	start := pcommon.NewTimestampFromTime(r.Start)
	if b.activity.ZitadelLogins.Enabled && len(r.Logins) > 0 {
		points := counter(ms, MetricLogins, "{login}", "Logins (OIDC and SAML sessions and machine grants) since the start time, by application, the user's organization, kind and factors.")
		for _, l := range r.Logins {
			a := b.cumulative(points, start, l.Count)
			a.PutStr(AttrLoginProtocol, l.Protocol)
			a.PutStr(AttrApplicationID, l.Application)
			a.PutStr(AttrOrganizationID, l.Organization)
			a.PutStr(AttrLoginKind, l.Kind)
			a.PutBool(AttrLoginMultiFactor, l.MultiFactor)
		}
	}
	if b.activity.ZitadelChecks.Enabled && len(r.Checks) > 0 {
		points := counter(ms, MetricChecks, "{check}", "Password, OTP and recovery-code checks since the start time, by the user's organization, factor and outcome.")
		for _, c := range r.Checks {
			a := b.cumulative(points, start, c.Count)
			a.PutStr(AttrOrganizationID, c.Organization)
			a.PutStr(AttrCheckFactor, c.Factor)
			a.PutStr(AttrCheckOutcome, c.Outcome)
		}
	}
	if b.activity.ZitadelLockouts.Enabled && len(r.Lockouts) > 0 {
		points := counter(ms, MetricLockouts, "{lockout}", "Users locked by the lockout policy since the start time, by organization.")
		for _, l := range r.Lockouts {
			b.cumulative(points, start, l.Count).PutStr(AttrOrganizationID, l.Organization)
		}
	}
	if b.activity.ZitadelUsersActive.Enabled && len(r.Active) > 0 {
		points := gauge(ms, MetricUsersActive, "{user}", "Distinct users with a login in the window, by parent and user type; exact below 10,000 users of a parent, else estimated (HyperLogLog, 0.81% standard error).")
		for _, u := range r.Active {
			dp := points.AppendEmpty()
			dp.SetTimestamp(b.now)
			dp.SetIntValue(int64(u.Users))
			a := dp.Attributes()
			parentID := u.ParentID
			if u.ParentType == activity.ParentInstance {
				parentID = instanceID
			}
			a.PutStr(AttrParentType, u.ParentType)
			a.PutStr(AttrParentID, parentID)
			a.PutStr(AttrUserType, u.UserType)
			a.PutStr(AttrActivityWindow, u.Window)
		}
	}
	if b.activity.ZitadelMilestoneReached.Enabled && len(r.Milestones) > 0 {
		points := gauge(ms, MetricMilestoneReached, "s", "When the instance reached each of ZITADEL's milestones, in seconds since the Unix epoch.")
		for _, m := range r.Milestones {
			dp := points.AppendEmpty()
			dp.SetTimestamp(b.now)
			dp.SetIntValue(m.ReachedAt.Unix())
			dp.Attributes().PutStr(AttrMilestoneType, m.Type)
		}
	}
}

func (b *Builder) cumulative(points pmetric.NumberDataPointSlice, start pcommon.Timestamp, n uint64) pcommon.Map {
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
