package report

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// Builder turns a metrics batch into one report per ZITADEL system. It
// reads only the metric contract's fields (an allow-list): whatever else the
// metrics carry never reaches a request.
type Builder struct {
	systemID    string // fallback for resources without zitadel.system.id
	version     string // fallback for resources without zitadel.version
	sendDomains bool
	// withheld resource names are left out of the report without complaint.
	withheld map[string]bool
}

// NewBuilder maps batches with the exporter's settings: the fallback system
// id and version, send_domains and send_resources.
func NewBuilder(systemID, version string, sendDomains bool, sendResources []string) *Builder {
	return &Builder{systemID: systemID, version: version, sendDomains: sendDomains, withheld: WithheldResources(sendResources)}
}

// System is everything one system sends: the base information, then
// the rows in pages.
type System struct {
	systemID string
	base     *analytics.ReportBaseInformationRequest
	rows     []*analytics.ResourceCount
	// resources are the indexes in the batch's ResourceMetrics that belong to
	// this system, so that a failed system can be retried alone.
	resources []int

	instances map[string]*analytics.InstanceInformation
	buffer    *rowBuffer
}

// SystemID is the system's original id, which names it in this collector's
// own log.
func (sr *System) SystemID() string { return sr.systemID }

// Base is the ReportBaseInformation request.
func (sr *System) Base() *analytics.ReportBaseInformationRequest { return sr.base }

// Rows are the report's rows, in the order they are sent.
func (sr *System) Rows() []*analytics.ResourceCount { return sr.rows }

// Resources are the indexes in the batch's ResourceMetrics that belong to
// this system.
func (sr *System) Resources() []int { return sr.resources }

// HashIDs replaces the ids of the report in place (id_hash_key). Rows repeat
// their instance and parent ids, so each distinct id is hashed once. The
// system id kept in sr.systemID stays the original: it names the system in
// this collector's own log, which is the operator's.
func (sr *System) HashIDs(h *idhash.Hasher) {
	if h == nil {
		return
	}
	p := h.Pseudonyms()
	p.Base(sr.base)
	p.Rows(sr.rows)
}

// Pages splits the rows into ReportResourceCounts bodies of at most bulkSize.
func (sr *System) Pages(bulkSize int) [][]*analytics.ResourceCount {
	pages := make([][]*analytics.ResourceCount, 0, (len(sr.rows)+bulkSize-1)/bulkSize)
	for start := 0; start < len(sr.rows); start += bulkSize {
		pages = append(pages, sr.rows[start:min(start+bulkSize, len(sr.rows))])
	}
	return pages
}

// Built is the outcome of one batch.
type Built struct {
	systems []*System
	// ignored counts the metrics outside the contract (other names or
	// types) and names the first few.
	ignored fieldshape.Problems
	// rejected counts values that were not sent; problems counts the
	// reasons and names the first few.
	rejected int
	problems fieldshape.Problems
	// withoutSystem counts the resources that had no system id to go with.
	withoutSystem int
	// withoutInstances lists the systems none of whose instances could be
	// sent: they get no report at all.
	withoutInstances []string
	// leftOut counts the contract's rows not in any report, by reason.
	leftOut [LeftOutReasons]int

	// The rows of one scrape share one observation time, and then one
	// *Timestamp (requests are only read, never changed).
	lastTime pcommon.Timestamp
	lastTS   *timestamppb.Timestamp
}

// Systems are the reports built, one per system.
func (r *Built) Systems() []*System { return r.systems }

// Ignored counts the metrics outside the contract and names the first few.
func (r *Built) Ignored() *fieldshape.Problems { return &r.ignored }

// LeftOut counts the contract's rows not in any report, by reason.
func (r *Built) LeftOut() [LeftOutReasons]int { return r.leftOut }

// reject records n values that are not sent, for one reason.
func (r *Built) reject(n int, format string, args ...any) {
	r.rejected += n
	r.problems.Add(format, args...)
}

func (r *Built) ignore(name string) {
	r.ignored.Add("%s", name)
}

// Errors turns what the mapping refused into permanent errors.
func (r *Built) Errors() []error {
	var errs []error
	if r.withoutSystem > 0 {
		errs = append(errs, consumererror.NewPermanent(fmt.Errorf(
			"%d resources have no %s attribute and no system_id is configured: their counts were not sent",
			r.withoutSystem, contract.ResAttrSystemID)))
	}
	for _, id := range r.withoutInstances {
		errs = append(errs, consumererror.NewPermanent(fmt.Errorf(
			"system %s: no report sent, because none of its instances could be sent", id)))
	}
	if r.problems.Count() > 0 {
		errs = append(errs, consumererror.NewPermanent(fmt.Errorf("%d values were not sent: %s", r.rejected, r.problems.Join(" problems"))))
	}
	return errs
}

// Release returns the rows for reuse; the requests built from them must no
// longer be in use.
func (r *Built) Release() {
	for _, sr := range r.systems {
		if sr.buffer != nil {
			rowBuffers.Put(sr.buffer)
			sr.buffer, sr.rows = nil, nil
		}
	}
}

func (b *Builder) Build(md pmetric.Metrics) *Built {
	out := &Built{}
	rms := md.ResourceMetrics()
	bySystem := make(map[string]*System)
	sizes := make(map[*System]int)

	// First pass: which system each resource belongs to and how many rows
	// each system can have, so every system allocates its rows once.
	owner := make([]*System, rms.Len())
	for i := range rms.Len() {
		rm := rms.At(i)
		systemID := b.systemID
		if v, ok := rm.Resource().Attributes().Get(contract.ResAttrSystemID); ok && v.Str() != "" {
			systemID = v.Str()
		}
		points := contractPoints(rm)
		if systemID == "" {
			if points == 0 {
				// Not ZITADEL's: another receiver's metrics in the same pipeline.
				ignoreAll(out, rm)
			} else {
				out.withoutSystem++
				out.leave(LeftOutNoSystemID, points)
			}
			continue
		}
		sr, ok := bySystem[systemID]
		if !ok {
			if p := fieldshape.CheckID(systemID, fieldshape.MaxSystemIDBytes); p != "" {
				out.reject(max(points, 1), "%s %s", contract.ResAttrSystemID, p)
				out.leave(LeftOutInvalid, points)
				continue
			}
			sr = &System{
				systemID:  systemID,
				base:      &analytics.ReportBaseInformationRequest{SystemId: systemID},
				instances: make(map[string]*analytics.InstanceInformation),
			}
			bySystem[systemID] = sr
			out.systems = append(out.systems, sr)
		}
		sr.resources = append(sr.resources, i)
		sizes[sr] += points
		owner[i] = sr
	}
	for sr, n := range sizes {
		sr.buffer = getRowBuffer(n)
		sr.rows = sr.buffer.rows
	}

	for i, sr := range owner {
		if sr != nil {
			b.addResource(out, sr, rms.At(i))
		}
	}
	sendable := out.systems[:0]
	for _, sr := range out.systems {
		sr.buffer.rows = sr.rows // every system got a buffer above, if of zero rows
		if len(sr.base.Instances) == 0 {
			// A base information without instances is refused by the service,
			// and without one no page can be sent.
			out.withoutInstances = append(out.withoutInstances, sr.systemID)
			out.leave(LeftOutNoInstance, len(sr.rows))
			rowBuffers.Put(sr.buffer)
			continue
		}
		if sr.base.Version == "" {
			sr.base.Version = b.version
		}
		sr.instances = nil
		sendable = append(sendable, sr)
	}
	out.systems = sendable
	return out
}

// contractPoints counts the data points of the contract's metric.
func contractPoints(rm pmetric.ResourceMetrics) int {
	n := 0
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			if points, ok := contractDataPoints(ms.At(j)); ok {
				n += points.Len()
			}
		}
	}
	return n
}

// ignoreAll counts every metric of rm as outside the contract.
func ignoreAll(out *Built, rm pmetric.ResourceMetrics) {
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			out.ignore(ms.At(j).Name())
		}
	}
}

// contractDataPoints returns the points of m when m is the contract's metric:
// the name, as a sum (what the receiver writes) or a gauge (what it becomes
// after a trip through Prometheus).
func contractDataPoints(m pmetric.Metric) (pmetric.NumberDataPointSlice, bool) {
	if m.Name() != contract.MetricResourceCount {
		return pmetric.NumberDataPointSlice{}, false
	}
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints(), true
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints(), true
	}
	return pmetric.NumberDataPointSlice{}, false
}

func (b *Builder) addResource(out *Built, sr *System, rm pmetric.ResourceMetrics) {
	attrs := rm.Resource().Attributes()
	if sr.base.Version == "" {
		if v, ok := attrs.Get(contract.ResAttrVersion); ok && v.Str() != "" {
			if p := fieldshape.CheckVersion(v.Str()); p == "" {
				sr.base.Version = v.Str()
			} else {
				out.reject(1, "%s %s", contract.ResAttrVersion, p)
			}
		}
	}

	instanceID := ""
	if v, ok := attrs.Get(contract.ResAttrInstanceID); ok {
		instanceID = v.Str()
	}
	instanceProblem := fieldshape.CheckID(instanceID, fieldshape.MaxIDBytes)
	if instanceProblem == "" {
		b.addInstance(out, sr, instanceID, attrs)
	}

	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			points, ok := contractDataPoints(ms.At(j))
			switch {
			case !ok:
				out.ignore(ms.At(j).Name())
			case instanceProblem != "":
				if points.Len() > 0 {
					out.reject(points.Len(), "%d counts of a resource whose %s %s", points.Len(), contract.ResAttrInstanceID, instanceProblem)
					out.leave(LeftOutInvalid, points.Len())
				}
			default:
				b.addRows(out, sr, instanceID, points)
			}
		}
	}
}

func (b *Builder) addInstance(out *Built, sr *System, id string, attrs pcommon.Map) {
	if _, ok := sr.instances[id]; ok {
		return
	}
	in := &analytics.InstanceInformation{Id: id}
	sr.instances[id] = in
	sr.base.Instances = append(sr.base.Instances, in)
	if v, ok := attrs.Get(contract.ResAttrDomains); ok && b.sendDomains && v.Type() == pcommon.ValueTypeSlice {
		domains := v.Slice()
		in.Domains = make([]string, 0, domains.Len())
		for k := range domains.Len() {
			d := domains.At(k).Str()
			if d == "" {
				continue
			}
			if p := fieldshape.CheckDomain(d); p != "" {
				out.reject(1, "instance %s: a domain %s", id, p)
				continue
			}
			in.Domains = append(in.Domains, d)
		}
	}
	if v, ok := attrs.Get(contract.ResAttrCreationDate); ok && v.Str() != "" {
		created, err := time.Parse(time.RFC3339Nano, v.Str())
		ts := timestamppb.New(created)
		if err == nil {
			err = ts.CheckValid() // years 1 to 9999, as the wire allows
		}
		if err != nil {
			out.reject(1, "instance %s: %s is not an RFC 3339 time from year 1 to 9999", id, contract.ResAttrCreationDate)
		} else {
			in.CreatedAt = ts
		}
	}
}

func (b *Builder) addRows(out *Built, sr *System, instanceID string, points pmetric.NumberDataPointSlice) {
	for k := range points.Len() {
		dp := points.At(k)
		var resource, parentType, parentID, table string
		var wrongType string
		for key, v := range dp.Attributes().All() {
			var field *string
			switch key {
			case contract.AttrResourceName:
				field = &resource
			case contract.AttrParentType:
				field = &parentType
			case contract.AttrParentID:
				field = &parentID
			case contract.AttrTableName:
				field = &table
			default:
				continue
			}
			// Str is "" for any other type; only then is the type looked at.
			if *field = v.Str(); *field == "" && v.Type() != pcommon.ValueTypeStr {
				wrongType = key
			}
		}
		if b.withheld[resource] {
			out.leave(LeftOutWithheld, 1)
			continue
		}
		amount, problem := amountOf(dp)
		switch {
		case wrongType != "":
			problem = wrongType + " is not a string"
		case problem != "":
		default:
			problem = rowProblem(resource, parentType, parentID, table, dp.Timestamp())
		}
		if problem != "" {
			out.leave(LeftOutInvalid, 1)
			out.reject(1, "instance %s, %s %s, %s %s: %s", instanceID,
				contract.AttrParentID, shown(parentID, fieldshape.CheckID(parentID, fieldshape.MaxIDBytes)),
				contract.AttrResourceName, shown(resource, fieldshape.CheckResourceName(resource)), problem)
			continue
		}
		if t := dp.Timestamp(); t != out.lastTime || out.lastTS == nil {
			out.lastTime, out.lastTS = t, timestamppb.New(t.AsTime())
		}
		rc := &sr.buffer.backing[len(sr.rows)]
		rc.InstanceId = instanceID
		rc.ParentType = contract.ParentTypeOf(parentType)
		rc.ParentId = parentID
		rc.ResourceName = resource
		rc.TableName = table
		rc.UpdatedAt = out.lastTS
		rc.Amount = amount
		sr.rows = append(sr.rows, rc)
	}
}

// amountOf reads a count. Integers must be within uint32, the wire's type,
// and are never wrapped. A double is accepted when it is a whole number in
// that range: a count that went through Prometheus or a transform comes back
// as 42.0, and that is still 42.
func amountOf(dp pmetric.NumberDataPoint) (uint32, string) {
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		v := dp.IntValue()
		if v < 0 || v > math.MaxUint32 {
			return 0, fmt.Sprintf("amount %d is outside 0..%d", v, uint32(math.MaxUint32))
		}
		return uint32(v), ""
	case pmetric.NumberDataPointValueTypeDouble:
		v := dp.DoubleValue()
		if v != math.Trunc(v) || v < 0 || v > math.MaxUint32 {
			return 0, fmt.Sprintf("amount %v is not a whole number in 0..%d", v, uint32(math.MaxUint32))
		}
		return uint32(v), ""
	}
	return 0, "the data point has no value"
}

// rowProblem says why a row cannot be sent, or "". Every check is one a
// strict endpoint makes too: a row it would refuse would take its whole page
// with it, so the row is left out here instead.
func rowProblem(resource, parentType, parentID, table string, t pcommon.Timestamp) string {
	if parentType != model.ParentInstance && parentType != model.ParentOrganization {
		if parentType == "" {
			return contract.AttrParentType + " is missing"
		}
		return fmt.Sprintf("%s %s is neither %q nor %q", contract.AttrParentType, shown(parentType, fieldshape.CheckResourceName(parentType)),
			model.ParentInstance, model.ParentOrganization)
	}
	if t == 0 {
		return "the data point has no time"
	}
	if t > math.MaxInt64 {
		// pdata reads such a time as one before 1970.
		return "the data point time is after the year 2262"
	}
	if p := fieldshape.CheckResourceName(resource); p != "" {
		return contract.AttrResourceName + " " + p
	}
	if p := fieldshape.CheckID(parentID, fieldshape.MaxIDBytes); p != "" {
		return contract.AttrParentID + " " + p
	}
	if table != "" {
		if p := fieldshape.CheckTableName(table); p != "" {
			return contract.AttrTableName + " " + p
		}
	}
	return ""
}

// shown quotes a value for an error message only when it has its field's
// shape (problem is ""): a value that does not may be the very personal data
// being kept out, and the log is no place for it either.
func shown(s, problem string) string {
	switch {
	case s == "":
		return `""`
	case problem != "":
		return "(refused value)"
	}
	return strconv.Quote(s)
}

// rowBuffer holds a report's rows: one array of messages and the pointers
// the request carries.
type rowBuffer struct {
	backing []analytics.ResourceCount
	rows    []*analytics.ResourceCount
}

// rowBuffers recycles the rows of reports that were sent. A batch can hold a
// million rows; fresh memory for them, and the garbage collection it causes
// while the batch itself is live, costs more than the mapping. A pooled buffer
// still points at strings of an earlier batch until it is reused or the pool
// drops it at the next garbage collections.
var rowBuffers sync.Pool

func getRowBuffer(n int) *rowBuffer {
	if rb, ok := rowBuffers.Get().(*rowBuffer); ok && cap(rb.backing) >= n {
		rb.rows = rb.rows[:0]
		return rb
	}
	return &rowBuffer{backing: make([]analytics.ResourceCount, n), rows: make([]*analytics.ResourceCount, 0, n)}
}
