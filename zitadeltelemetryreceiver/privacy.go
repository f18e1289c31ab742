package zitadeltelemetryreceiver

import (
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The receiver's privacy switches act on a call after it was checked and its
// report id issued or verified (which bind the original system id), and
// before anything is emitted: no processor or exporter after the receiver,
// nor the collector's own debug output, sees what they take out.

// protectBase applies drop_domains and id_hash_key to a base information.
func (r *telemetryReceiver) protectBase(req *analytics.ReportBaseInformationRequest) {
	if r.cfg.DropDomains {
		for _, in := range req.Instances {
			in.Domains = nil
		}
	}
	if r.hashIDs != nil {
		r.hashIDs.Pseudonyms().Base(req)
	}
}

// protectCounts applies id_hash_key to a page; counts still join their
// instance's information, whose ids hash alike.
func (r *telemetryReceiver) protectCounts(req *analytics.ReportResourceCountsRequest) {
	if r.hashIDs == nil {
		return
	}
	p := r.hashIDs.Pseudonyms()
	req.SystemId = p.Of(req.SystemId)
	p.Rows(req.ResourceCounts)
}
