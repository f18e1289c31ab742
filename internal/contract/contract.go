package contract

import (
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// The metric contract between the receiver and the exporter. The receiver writes
// exactly this; the exporter reads only this (an allow-list), whatever else arrives.
const (
	MetricResourceCount = "zitadel.resource.count"
	MetricUnit          = "{resource}"
	MetricDescription   = "Number of ZITADEL resources of one kind under one parent (instance or organization)."

	AttrResourceName = "zitadel.resource.name"
	AttrParentType   = "zitadel.parent.type"
	AttrParentID     = "zitadel.parent.id"
	AttrTableName    = "zitadel.table.name"
	// AttrUserState and AttrUserType split the user_by_state counts; the
	// report has no field for them, so the exporter never sends those rows.
	AttrUserState = "zitadel.user.state"
	AttrUserType  = "zitadel.user.type"
	// AttrUpdatedAt is opt-in (database source): when ZITADEL last changed the
	// count, RFC 3339. The data point time stays the observation time.
	AttrUpdatedAt = "zitadel.count.updated_at"

	ResAttrSystemID     = "zitadel.system.id"
	ResAttrVersion      = "zitadel.version"
	ResAttrInstanceID   = "zitadel.instance.id"
	ResAttrDomains      = "zitadel.instance.domains"
	ResAttrCreationDate = "zitadel.instance.creation_date"
)

// ScopeName is the instrumentation scope of the contract's metrics.
var ScopeName = model.ScopeName

// Builder turns what a source records during one scrape into the metric
// contract: one resource per instance, one data point per (parent, resource, table).
type Builder struct {
	md        pmetric.Metrics
	instances map[string]*instanceMetrics
	start     pcommon.Timestamp
	now       pcommon.Timestamp
	systemID  string // config override; empty keeps what the source found
	version   string // config override
	// activity switches the activity metrics (activity.go).
	activity MetricsConfig
}

type instanceMetrics struct {
	resource pcommon.Resource
	metrics  pmetric.MetricSlice // the scope's, for the activity metrics
	points   pmetric.NumberDataPointSlice
}

func NewBuilder(start, now time.Time, systemID, version string) *Builder {
	return &Builder{
		md:        pmetric.NewMetrics(),
		instances: make(map[string]*instanceMetrics),
		start:     pcommon.NewTimestampFromTime(start),
		now:       pcommon.NewTimestampFromTime(now),
		systemID:  systemID,
		version:   version,
	}
}

func (b *Builder) instance(id string) *instanceMetrics {
	if im, ok := b.instances[id]; ok {
		return im
	}
	rm := b.md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr(ResAttrInstanceID, id)
	if b.systemID != "" {
		rm.Resource().Attributes().PutStr(ResAttrSystemID, b.systemID)
	}
	if b.version != "" {
		rm.Resource().Attributes().PutStr(ResAttrVersion, b.version)
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(ScopeName)
	m := sm.Metrics().AppendEmpty()
	m.SetName(MetricResourceCount)
	m.SetUnit(MetricUnit)
	m.SetDescription(MetricDescription)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(false)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	im := &instanceMetrics{resource: rm.Resource(), metrics: sm.Metrics(), points: sum.DataPoints()}
	b.instances[id] = im
	return im
}

// RecordInstance implements model.Recorder.
func (b *Builder) RecordInstance(in model.Instance) {
	attrs := b.instance(in.ID).resource.Attributes()
	if b.systemID == "" && in.SystemID != "" {
		attrs.PutStr(ResAttrSystemID, in.SystemID)
	}
	if b.version == "" && in.Version != "" {
		attrs.PutStr(ResAttrVersion, in.Version)
	}
	PutInstanceInfo(attrs, in.Domains, in.CreatedAt)
}

// PutInstanceInfo writes what an instance's resource says besides its ids.
// The domains are sorted: ZITADEL's service ping sends them in no defined
// order and without the primary flag, so sorted is the one order every
// source can give, and one instance is one label value whichever way it came.
func PutInstanceInfo(attrs pcommon.Map, domains []string, created time.Time) {
	slice := attrs.PutEmptySlice(ResAttrDomains)
	slice.EnsureCapacity(len(domains))
	for _, d := range slices.Sorted(slices.Values(domains)) {
		slice.AppendEmpty().SetStr(d)
	}
	if !created.IsZero() {
		attrs.PutStr(ResAttrCreationDate, created.UTC().Format(time.RFC3339Nano))
	}
}

// RecordCount implements model.Recorder.
func (b *Builder) RecordCount(c model.Count) { b.RecordCountAt(c, b.now) }

// HasInstance says whether the instance has its resource already.
func (b *Builder) HasInstance(id string) bool {
	_, ok := b.instances[id]
	return ok
}

// RecordCountAt records a count observed at another time than the
// builder's: the exporter's snapshot keeps each row's own.
func (b *Builder) RecordCountAt(c model.Count, observed pcommon.Timestamp) {
	dp := b.instance(c.InstanceID).points.AppendEmpty()
	dp.SetStartTimestamp(b.start)
	dp.SetTimestamp(observed)
	dp.SetIntValue(c.Amount)
	attrs := dp.Attributes()
	attrs.EnsureCapacity(4)
	attrs.PutStr(AttrResourceName, c.Resource)
	attrs.PutStr(AttrParentType, c.ParentType)
	attrs.PutStr(AttrParentID, c.ParentID)
	if c.Table != "" {
		attrs.PutStr(AttrTableName, c.Table)
	}
	if c.UserState != "" {
		attrs.PutStr(AttrUserState, c.UserState)
		attrs.PutStr(AttrUserType, c.UserType)
	}
	if !c.UpdatedAt.IsZero() {
		attrs.PutStr(AttrUpdatedAt, c.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
}

// Emit returns the metrics built so far and resets the builder.
func (b *Builder) Emit() pmetric.Metrics {
	md := b.md
	b.md = pmetric.NewMetrics()
	b.instances = make(map[string]*instanceMetrics)
	return md
}
