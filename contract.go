package zitadeltelemetry

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// The metric contract between the receiver and the exporter. The receiver writes
// exactly this; the exporter reads only this (an allow-list), whatever else arrives.
const (
	metricResourceCount = "zitadel.resource.count"
	metricUnit          = "{resource}"
	metricDescription   = "Number of ZITADEL resources of one kind under one parent (instance or organization)."

	attrResourceName = "zitadel.resource.name"
	attrParentType   = "zitadel.parent.type"
	attrParentID     = "zitadel.parent.id"
	attrTableName    = "zitadel.table.name"
	// attrUserState and attrUserType split the user_by_state counts; the
	// report has no field for them, so the exporter never sends those rows.
	attrUserState = "zitadel.user.state"
	attrUserType  = "zitadel.user.type"
	// attrUpdatedAt is opt-in (database source): when ZITADEL last changed the
	// count, RFC 3339. The data point time stays the observation time.
	attrUpdatedAt = "zitadel.count.updated_at"

	resAttrSystemID     = "zitadel.system.id"
	resAttrVersion      = "zitadel.version"
	resAttrInstanceID   = "zitadel.instance.id"
	resAttrDomains      = "zitadel.instance.domains"
	resAttrCreationDate = "zitadel.instance.creation_date"

	scopeName = model.ScopeName
)

// metricsBuilder turns what a source records during one scrape into the metric
// contract: one resource per instance, one data point per (parent, resource, table).
type metricsBuilder struct {
	md        pmetric.Metrics
	instances map[string]*instanceMetrics
	start     pcommon.Timestamp
	now       pcommon.Timestamp
	systemID  string // config override; empty keeps what the source found
	version   string // config override
	// activity switches the activity metrics (receiver_activity.go).
	activity MetricsConfig
}

type instanceMetrics struct {
	resource pcommon.Resource
	metrics  pmetric.MetricSlice // the scope's, for the activity metrics
	points   pmetric.NumberDataPointSlice
}

func newMetricsBuilder(start, now time.Time, systemID, version string) *metricsBuilder {
	return &metricsBuilder{
		md:        pmetric.NewMetrics(),
		instances: make(map[string]*instanceMetrics),
		start:     pcommon.NewTimestampFromTime(start),
		now:       pcommon.NewTimestampFromTime(now),
		systemID:  systemID,
		version:   version,
	}
}

func (b *metricsBuilder) instance(id string) *instanceMetrics {
	if im, ok := b.instances[id]; ok {
		return im
	}
	rm := b.md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr(resAttrInstanceID, id)
	if b.systemID != "" {
		rm.Resource().Attributes().PutStr(resAttrSystemID, b.systemID)
	}
	if b.version != "" {
		rm.Resource().Attributes().PutStr(resAttrVersion, b.version)
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	m := sm.Metrics().AppendEmpty()
	m.SetName(metricResourceCount)
	m.SetUnit(metricUnit)
	m.SetDescription(metricDescription)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(false)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	im := &instanceMetrics{resource: rm.Resource(), metrics: sm.Metrics(), points: sum.DataPoints()}
	b.instances[id] = im
	return im
}

// RecordInstance implements model.Recorder.
func (b *metricsBuilder) RecordInstance(in model.Instance) {
	attrs := b.instance(in.ID).resource.Attributes()
	if b.systemID == "" && in.SystemID != "" {
		attrs.PutStr(resAttrSystemID, in.SystemID)
	}
	if b.version == "" && in.Version != "" {
		attrs.PutStr(resAttrVersion, in.Version)
	}
	putInstanceInfo(attrs, in.Domains, in.CreatedAt)
}

// putInstanceInfo writes what an instance's resource says besides its ids.
func putInstanceInfo(attrs pcommon.Map, domains []string, created time.Time) {
	slice := attrs.PutEmptySlice(resAttrDomains)
	slice.EnsureCapacity(len(domains))
	for _, d := range domains {
		slice.AppendEmpty().SetStr(d)
	}
	if !created.IsZero() {
		attrs.PutStr(resAttrCreationDate, created.UTC().Format(time.RFC3339Nano))
	}
}

// RecordCount implements model.Recorder.
func (b *metricsBuilder) RecordCount(c model.Count) {
	dp := b.instance(c.InstanceID).points.AppendEmpty()
	dp.SetStartTimestamp(b.start)
	dp.SetTimestamp(b.now)
	dp.SetIntValue(c.Amount)
	attrs := dp.Attributes()
	attrs.EnsureCapacity(4)
	attrs.PutStr(attrResourceName, c.Resource)
	attrs.PutStr(attrParentType, c.ParentType)
	attrs.PutStr(attrParentID, c.ParentID)
	if c.Table != "" {
		attrs.PutStr(attrTableName, c.Table)
	}
	if c.UserState != "" {
		attrs.PutStr(attrUserState, c.UserState)
		attrs.PutStr(attrUserType, c.UserType)
	}
	if !c.UpdatedAt.IsZero() {
		attrs.PutStr(attrUpdatedAt, c.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
}

// emit returns the metrics built so far and resets the builder.
func (b *metricsBuilder) emit() pmetric.Metrics {
	md := b.md
	b.md = pmetric.NewMetrics()
	b.instances = make(map[string]*instanceMetrics)
	return md
}
