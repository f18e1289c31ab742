package zitadeltelemetry

import (
	"fmt"
	"strings"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// problems collects the first few reasons a request is refused.
type problems struct {
	list  []string
	count int
}

func (p *problems) add(format string, args ...any) {
	p.count++
	if len(p.list) < maxListedProblems {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

func (p *problems) String() string {
	text := strings.Join(p.list, "; ")
	if more := p.count - len(p.list); more > 0 {
		text += fmt.Sprintf("; and %d more", more)
	}
	return text
}

// The receiver holds every field to the same shapes and limits as the
// exporter (shape.go, report.go), so that what one collector refuses to send
// another does not take, and personal data cannot enter a pipeline through
// this endpoint either.

func checkSystemID(p *problems, id string) {
	if msg := checkID(id, maxSystemIDBytes); msg != "" {
		p.add("systemId %s", msg)
	}
}

// checkBaseInformation lists what is wrong with a ReportBaseInformation call,
// in the wire's own field names.
func checkBaseInformation(req *analytics.ReportBaseInformationRequest) *problems {
	p := &problems{}
	checkSystemID(p, req.GetSystemId())
	if v := req.GetVersion(); v != "" {
		if msg := checkVersion(v); msg != "" {
			p.add("version %s", msg)
		}
	}
	seen := make(map[string]int, len(req.GetInstances()))
	for i, in := range req.GetInstances() {
		if msg := checkID(in.GetId(), maxIDBytes); msg != "" {
			p.add("instances[%d].id %s", i, msg)
		} else if first, dup := seen[in.GetId()]; dup {
			p.add("instances[%d].id %q is instances[%d] again", i, in.GetId(), first)
		} else {
			seen[in.GetId()] = i
		}
		for j, d := range in.GetDomains() {
			if msg := checkDomain(d); msg != "" {
				p.add("instances[%d].domains[%d] %s", i, j, msg)
			}
		}
		if ts := in.GetCreatedAt(); ts != nil && ts.CheckValid() != nil {
			p.add("instances[%d].createdAt is not a time from year 1 to 9999", i)
		}
	}
	return p
}

// checkResourceCounts lists what is wrong with a ReportResourceCounts call.
// The report id is checked apart: a bad one is a precondition, not a
// malformed request.
func checkResourceCounts(req *analytics.ReportResourceCountsRequest, maxRows int) *problems {
	p := &problems{}
	checkSystemID(p, req.GetSystemId())
	rows := req.GetResourceCounts()
	if len(rows) > maxRows {
		p.add("resourceCounts has %d rows; this receiver takes at most %d per call (max_rows_per_page), set ZITADEL's ServicePing.Telemetry.ResourceCount.BulkSize lower",
			len(rows), maxRows)
		return p
	}
	for i, rc := range rows {
		if msg := checkID(rc.InstanceId, maxIDBytes); msg != "" {
			p.add("resourceCounts[%d].instanceId %s", i, msg)
		}
		switch rc.ParentType {
		case analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION:
		default:
			p.add("resourceCounts[%d].parentType %s is neither COUNT_PARENT_TYPE_INSTANCE nor COUNT_PARENT_TYPE_ORGANIZATION", i, rc.ParentType)
		}
		if msg := checkID(rc.ParentId, maxIDBytes); msg != "" {
			p.add("resourceCounts[%d].parentId %s", i, msg)
		}
		if msg := checkResourceName(rc.ResourceName); msg != "" {
			p.add("resourceCounts[%d].resourceName %s", i, msg)
		}
		if rc.TableName != "" {
			if msg := checkTableName(rc.TableName); msg != "" {
				p.add("resourceCounts[%d].tableName %s", i, msg)
			}
		}
		if rc.UpdatedAt != nil && rc.UpdatedAt.CheckValid() != nil {
			p.add("resourceCounts[%d].updatedAt is not a time from year 1 to 9999", i)
		}
	}
	return p
}
