package zitadeltelemetryreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// A ReportResourceCounts page names instances by id only; what ZITADEL tells
// about an instance (version, domains, creation date) arrives once per report
// with ReportBaseInformation, possibly at another replica. So the receiver
// emits that as an info metric of its own, one data point of 1 per instance
// on a resource with every instance attribute, and the counts on resources
// with the system and instance ids. Dashboards join the two on
// zitadel.instance.id, as Prometheus' target_info is joined. Like target_info
// it has no unit: the Prometheus exporter appends a unit of "1" to the name
// (zitadel_instance_info_ratio), and a documented join would find nothing.
const (
	metricInstanceInfo            = "zitadel.instance.info"
	metricInstanceInfoUnit        = ""
	metricInstanceInfoDescription = "Always 1; its resource carries what ZITADEL reported about the instance (version, domains, creation date)."
)

// instanceInfoMetrics builds one resource per instance of a base information.
func instanceInfoMetrics(req *analytics.ReportBaseInformationRequest, start, now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rms := md.ResourceMetrics()
	rms.EnsureCapacity(len(req.Instances))
	for _, in := range req.Instances {
		rm := rms.AppendEmpty()
		attrs := rm.Resource().Attributes()
		attrs.PutStr(contract.ResAttrInstanceID, in.Id)
		attrs.PutStr(contract.ResAttrSystemID, req.SystemId)
		if req.Version != "" {
			attrs.PutStr(contract.ResAttrVersion, req.Version)
		}
		var created time.Time
		if in.CreatedAt != nil {
			created = in.CreatedAt.AsTime()
		}
		contract.PutInstanceInfo(attrs, in.Domains, created)

		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(contract.ScopeName)
		m := sm.Metrics().AppendEmpty()
		m.SetName(metricInstanceInfo)
		m.SetUnit(metricInstanceInfoUnit)
		m.SetDescription(metricInstanceInfoDescription)
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(now))
		dp.SetIntValue(1)
	}
	return md
}

// countMetrics builds the metric contract from a page, as the `zitadel`
// receiver's sources do: the data point time is when the page arrived, and a
// row's updated_at becomes the opt-in attribute.
func countMetrics(req *analytics.ReportResourceCountsRequest, start, now time.Time, updatedAt bool) pmetric.Metrics {
	b := contract.NewBuilder(start, now, req.SystemId, "")
	for _, rc := range req.ResourceCounts {
		c := model.Count{
			InstanceID: rc.InstanceId, ParentType: contract.ParentTypeName(rc.ParentType), ParentID: rc.ParentId,
			Resource: rc.ResourceName, Table: rc.TableName, Amount: int64(rc.Amount),
		}
		if updatedAt && rc.UpdatedAt != nil {
			c.UpdatedAt = rc.UpdatedAt.AsTime()
		}
		b.RecordCount(c)
	}
	return b.Emit()
}
