package telemetryserver

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// state is everything the server knows; Server.mu guards it.
type state struct {
	opts       Options
	requests   []Request
	received   int
	failed     int
	reports    map[string]*report
	nextID     int
	systems    map[string]*system
	expireNext int
	rotate     bool
}

type report struct {
	systemID string
	expires  time.Time
}

type system struct {
	version   string
	instances map[string]*analytics.InstanceInformation
	rows      *rowStore
	reports   int
}

func newState(opts Options) *state {
	return &state{opts: opts, reports: make(map[string]*report), systems: make(map[string]*system)}
}

func (st *state) system(id string) *system {
	sys, ok := st.systems[id]
	if !ok {
		sys = &system{instances: make(map[string]*analytics.InstanceInformation), rows: newRowStore()}
		st.systems[id] = sys
	}
	return sys
}

// issue hands out a new report id bound to systemID.
func (st *state) issue(systemID string) string {
	st.nextID++
	id := "report-" + strconv.Itoa(st.nextID)
	expires := time.Now().Add(st.opts.ReportTTL)
	if st.expireNext > 0 {
		st.expireNext--
		expires = time.Time{}
	}
	st.reports[id] = &report{systemID: systemID, expires: expires}
	return id
}

func (st *state) reportBase(req *analytics.ReportBaseInformationRequest) answer {
	if req.SystemId == "" {
		return answer{code: codes.InvalidArgument, message: "systemId is required"}
	}
	sys := st.system(req.SystemId)
	sys.reports++
	if req.Version != "" {
		sys.version = req.Version
	}
	for _, in := range req.Instances {
		sys.instances[in.Id] = in
	}
	return answer{reportID: st.issue(req.SystemId)}
}

func (st *state) reportCounts(req *analytics.ReportResourceCountsRequest) answer {
	if req.SystemId == "" {
		return answer{code: codes.InvalidArgument, message: "systemId is required"}
	}
	id := req.GetReportId()
	if id == "" {
		// ZITADEL leaves the id out when the base information returned none;
		// the server then assigns one.
		id = st.issue(req.SystemId)
	} else {
		r, ok := st.reports[id]
		switch {
		case !ok:
			return answer{code: codes.FailedPrecondition, message: "report id " + strconv.Quote(id) + " is unknown"}
		case r.systemID != req.SystemId:
			return answer{code: codes.FailedPrecondition, message: "report id " + strconv.Quote(id) + " is foreign: it belongs to another system"}
		case !time.Now().Before(r.expires):
			return answer{code: codes.FailedPrecondition, message: "report id " + strconv.Quote(id) + " has expired"}
		}
		if st.rotate {
			delete(st.reports, id)
			id = st.issue(req.SystemId)
		}
	}
	rows := st.system(req.SystemId).rows
	for _, rc := range req.ResourceCounts {
		rows.put(rc)
	}
	return answer{reportID: id}
}

func (st *state) record(transport string, base *analytics.ReportBaseInformationRequest, counts *analytics.ReportResourceCountsRequest, a answer) {
	st.received++
	if a.code != codes.OK {
		st.failed++
	}
	if st.opts.DropRequests {
		return
	}
	r := Request{Transport: transport, Received: time.Now(), Base: base, Counts: counts, Code: a.code, ReportID: a.reportID}
	if base != nil {
		r.Method = MethodBase
	} else {
		r.Method = MethodCounts
	}
	st.requests = append(st.requests, r)
}

// SystemSnapshot is the deduplicated state of one system.
type SystemSnapshot struct {
	SystemID string
	Version  string
	// Instances, sorted by id, as last reported.
	Instances []*analytics.InstanceInformation
	// Rows, one per (instance, parent type, parent id, table, resource), the
	// latest observation of each; sorted by that key.
	Rows []*analytics.ResourceCount
	// Reports is the number of ReportBaseInformation calls received.
	Reports int
}

// Systems returns the ids of the systems that reported, sorted.
func (s *Server) Systems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.state.systems))
	for id := range s.state.systems {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Snapshot returns the deduplicated state of systemID.
func (s *Server) Snapshot(systemID string) (SystemSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sys, ok := s.state.systems[systemID]
	if !ok {
		return SystemSnapshot{}, false
	}
	snap := SystemSnapshot{
		SystemID: systemID, Version: sys.version, Reports: sys.reports,
		Instances: make([]*analytics.InstanceInformation, 0, len(sys.instances)),
		Rows:      sys.rows.all(),
	}
	for _, in := range sys.instances {
		snap.Instances = append(snap.Instances, in)
	}
	slices.SortFunc(snap.Instances, func(a, b *analytics.InstanceInformation) int { return cmp.Compare(a.Id, b.Id) })
	slices.SortFunc(snap.Rows, func(a, b *analytics.ResourceCount) int {
		return cmp.Or(cmp.Compare(a.InstanceId, b.InstanceId), cmp.Compare(a.ParentType, b.ParentType),
			cmp.Compare(a.ParentId, b.ParentId), cmp.Compare(a.ResourceName, b.ResourceName), cmp.Compare(a.TableName, b.TableName))
	})
	return snap, true
}
