package zitadeltelemetry

import (
	"fmt"
	"strings"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// Limits of what the receiver takes, beside the exporter's field limits
// (report.go), which bound the ids, names and tables of rows.
const (
	// maxVersionBytes bounds the ZITADEL version: v4.13.1, or a build's
	// longer pre-release text.
	maxVersionBytes = 128
	// maxDomainBytes is the longest DNS name.
	maxDomainBytes = 253
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

// lengthProblem says what is wrong with a string field: the decoders
// already refused invalid UTF-8, so only presence and length are left.
func lengthProblem(s string, limit int, required bool) string {
	switch {
	case s == "" && required:
		return "is missing"
	case len(s) > limit:
		return fmt.Sprintf("is longer than %d bytes", limit)
	}
	return ""
}

func checkSystemID(p *problems, id string) {
	if msg := lengthProblem(id, maxSystemIDBytes, true); msg != "" {
		p.add("systemId %s", msg)
	}
}

// checkBaseInformation lists what is wrong with a ReportBaseInformation call,
// in the wire's own field names.
func checkBaseInformation(req *analytics.ReportBaseInformationRequest) *problems {
	p := &problems{}
	checkSystemID(p, req.GetSystemId())
	if msg := lengthProblem(req.GetVersion(), maxVersionBytes, false); msg != "" {
		p.add("version %s", msg)
	}
	seen := make(map[string]int, len(req.GetInstances()))
	for i, in := range req.GetInstances() {
		if msg := lengthProblem(in.GetId(), maxIDBytes, true); msg != "" {
			p.add("instances[%d].id %s", i, msg)
		} else if first, dup := seen[in.GetId()]; dup {
			p.add("instances[%d].id %q is instances[%d] again", i, in.GetId(), first)
		} else {
			seen[in.GetId()] = i
		}
		for j, d := range in.GetDomains() {
			if msg := lengthProblem(d, maxDomainBytes, true); msg != "" {
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
		if msg := lengthProblem(rc.InstanceId, maxIDBytes, true); msg != "" {
			p.add("resourceCounts[%d].instanceId %s", i, msg)
		}
		switch rc.ParentType {
		case analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE, analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION:
		default:
			p.add("resourceCounts[%d].parentType %s is neither COUNT_PARENT_TYPE_INSTANCE nor COUNT_PARENT_TYPE_ORGANIZATION", i, rc.ParentType)
		}
		if msg := lengthProblem(rc.ParentId, maxIDBytes, true); msg != "" {
			p.add("resourceCounts[%d].parentId %s", i, msg)
		}
		if msg := lengthProblem(rc.ResourceName, maxResourceNameBytes, true); msg != "" {
			p.add("resourceCounts[%d].resourceName %s", i, msg)
		}
		if msg := lengthProblem(rc.TableName, maxTableNameBytes, false); msg != "" {
			p.add("resourceCounts[%d].tableName %s", i, msg)
		}
		if rc.UpdatedAt != nil && rc.UpdatedAt.CheckValid() != nil {
			p.add("resourceCounts[%d].updatedAt is not a time from year 1 to 9999", i)
		}
	}
	return p
}
