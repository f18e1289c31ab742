package telemetryserver

import (
	"encoding/json"
	"time"
)

// Summary is what arrived, in a form meant to be printed: per system, the
// instances and the totals per resource over the deduplicated rows.
type Summary struct {
	Requests       int             `json:"requests"`
	FailedRequests int             `json:"failedRequests"`
	Systems        []SystemSummary `json:"systems"`
}

// SystemSummary sums up one system.
type SystemSummary struct {
	SystemID  string            `json:"systemId"`
	Version   string            `json:"version,omitempty"`
	Reports   int               `json:"reports"`
	Instances []InstanceSummary `json:"instances"`
	Rows      int               `json:"rows"`
	// Totals sums the amounts of the deduplicated rows per resource name.
	Totals map[string]uint64 `json:"totals"`
}

// InstanceSummary is one reported instance.
type InstanceSummary struct {
	ID        string   `json:"id"`
	Domains   []string `json:"domains,omitempty"`
	CreatedAt string   `json:"createdAt,omitempty"`
}

// Summary sums up everything received so far.
func (s *Server) Summary() Summary {
	s.mu.Lock()
	sum := Summary{Requests: s.state.received, FailedRequests: s.state.failed, Systems: []SystemSummary{}}
	s.mu.Unlock()
	for _, id := range s.Systems() {
		snap, _ := s.Snapshot(id)
		ss := SystemSummary{
			SystemID: id, Version: snap.Version, Reports: snap.Reports, Rows: len(snap.Rows),
			Instances: make([]InstanceSummary, 0, len(snap.Instances)), Totals: map[string]uint64{},
		}
		for _, in := range snap.Instances {
			is := InstanceSummary{ID: in.Id, Domains: in.Domains}
			if in.CreatedAt != nil {
				is.CreatedAt = in.CreatedAt.AsTime().Format(time.RFC3339Nano)
			}
			ss.Instances = append(ss.Instances, is)
		}
		for _, r := range snap.Rows {
			ss.Totals[r.ResourceName] += uint64(r.Amount)
		}
		sum.Systems = append(sum.Systems, ss)
	}
	return sum
}

// SummaryJSON is Summary, indented for a terminal.
func (s *Server) SummaryJSON() ([]byte, error) {
	return json.MarshalIndent(s.Summary(), "", "  ")
}
