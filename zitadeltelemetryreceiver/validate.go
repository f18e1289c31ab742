package zitadeltelemetryreceiver

import (
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The receiver holds every field to the same shapes and limits as the
// exporter (internal/fieldshape), so that what one collector refuses to send
// another does not take, and personal data cannot enter a pipeline through
// this endpoint either.

func checkSystemID(p *fieldshape.Problems, id string) {
	if msg := fieldshape.CheckID(id, fieldshape.MaxSystemIDBytes); msg != "" {
		p.Add("systemId %s", msg)
	}
}

// checkBaseInformation lists what is wrong with a ReportBaseInformation call,
// in the wire's own field names.
func checkBaseInformation(req *analytics.ReportBaseInformationRequest) *fieldshape.Problems {
	p := &fieldshape.Problems{}
	checkSystemID(p, req.GetSystemId())
	if v := req.GetVersion(); v != "" {
		if msg := fieldshape.CheckVersion(v); msg != "" {
			p.Add("version %s", msg)
		}
	}
	seen := make(map[string]int, len(req.GetInstances()))
	for i, in := range req.GetInstances() {
		if msg := fieldshape.CheckID(in.GetId(), fieldshape.MaxIDBytes); msg != "" {
			p.Add("instances[%d].id %s", i, msg)
		} else if first, dup := seen[in.GetId()]; dup {
			p.Add("instances[%d].id %q is instances[%d] again", i, in.GetId(), first)
		} else {
			seen[in.GetId()] = i
		}
		for j, d := range in.GetDomains() {
			if msg := fieldshape.CheckDomain(d); msg != "" {
				p.Add("instances[%d].domains[%d] %s", i, j, msg)
			}
		}
		if ts := in.GetCreatedAt(); ts != nil && ts.CheckValid() != nil {
			p.Add("instances[%d].createdAt is not a time from year 1 to 9999", i)
		}
	}
	return p
}

// checkResourceCounts lists what is wrong with a ReportResourceCounts call.
// The report id is checked apart: a bad one is a precondition, not a
// malformed request.
// Its rows were counted, and a page over max_rows_per_page refused, before
// it was decoded.
func checkResourceCounts(req *analytics.ReportResourceCountsRequest) *fieldshape.Problems {
	p := &fieldshape.Problems{}
	checkSystemID(p, req.GetSystemId())
	for i, rc := range req.GetResourceCounts() {
		if msg := fieldshape.CheckID(rc.InstanceId, fieldshape.MaxIDBytes); msg != "" {
			p.Add("resourceCounts[%d].instanceId %s", i, msg)
		}
		switch rc.ParentType {
		case analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION:
		default:
			p.Add("resourceCounts[%d].parentType %s is neither COUNT_PARENT_TYPE_INSTANCE nor COUNT_PARENT_TYPE_ORGANIZATION", i, rc.ParentType)
		}
		if msg := fieldshape.CheckID(rc.ParentId, fieldshape.MaxIDBytes); msg != "" {
			p.Add("resourceCounts[%d].parentId %s", i, msg)
		}
		if msg := fieldshape.CheckResourceName(rc.ResourceName); msg != "" {
			p.Add("resourceCounts[%d].resourceName %s", i, msg)
		}
		if rc.TableName != "" {
			if msg := fieldshape.CheckTableName(rc.TableName); msg != "" {
				p.Add("resourceCounts[%d].tableName %s", i, msg)
			}
		}
		if rc.UpdatedAt != nil && rc.UpdatedAt.CheckValid() != nil {
			p.Add("resourceCounts[%d].updatedAt is not a time from year 1 to 9999", i)
		}
	}
	return p
}
