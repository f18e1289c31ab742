package zitadelapi

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// scrapeRun is one scrape: a producer walks the instances and their
// organizations, a fixed number of workers count, and one lock serializes
// what reaches the recorder.
type scrapeRun struct {
	ctx   context.Context
	src   *source
	now   time.Time
	fails *failures

	recMu sync.Mutex
	rec   model.Recorder
	// checked is rec behind the shape checks, for instances and counts.
	checked  *model.CheckedRecorder
	recorded int

	jobs      chan func()
	workers   sync.WaitGroup
	instances []*instanceRun
}

// instanceRun is one instance's state during a scrape.
type instanceRun struct {
	id      string
	label   string // "instance <id>", for messages
	sc      scope
	domains []string

	// sums holds the plan's summed totals; the map is not changed once the
	// instance is started.
	sums map[string]*instanceSum

	// track is the state an incremental source keeps of this scrape, nil
	// when none is kept; failed makes the next scrape of the instance full.
	track  *instanceState
	failed atomic.Bool

	// Once ZITADEL rejects the credentials for an instance, or denies a kind
	// of read several times, the remaining calls of that kind are not made.
	// A single denial may be a deleted organization, so it does not count.
	unauthenticated atomic.Bool
	denied          sync.Map // resource name -> *atomic.Int32
}

// instanceSum is an instance total added up from several answers. One
// missing answer makes it incomplete, and an incomplete sum is not recorded.
// Answers that add up beyond an int64 (ZITADEL's totals are uint64) are no
// count a real installation has: the sum overflows, is not recorded and is
// reported, instead of wrapping to a negative number.
type instanceSum struct {
	total      atomic.Int64
	incomplete atomic.Bool
	overflowed atomic.Bool
}

func (inst *instanceRun) add(resource string, n int64) {
	s, ok := inst.sums[resource]
	if !ok {
		return
	}
	for {
		old := s.total.Load()
		sum, ok := addCounts(old, n)
		if !ok {
			s.overflowed.Store(true)
			return
		}
		if s.total.CompareAndSwap(old, sum) {
			return
		}
	}
}

// addCounts adds two counts, which are never negative, and reports false when
// the sum does not fit an int64.
func addCounts(a, b int64) (int64, bool) {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}

// addOwn adds the instance's own part of a sum, which an incremental scrape
// reuses while the instance has no new events.
func (inst *instanceRun) addOwn(resource string, n int64) {
	inst.add(resource, n)
	inst.track.keepOwn(resource, n)
}

func (inst *instanceRun) incomplete(resources ...string) {
	for _, res := range resources {
		if s, ok := inst.sums[res]; ok {
			s.incomplete.Store(true)
		}
	}
}

// abandonSums marks every sum incomplete: not every organization was counted.
func (inst *instanceRun) abandonSums() {
	inst.failed.Store(true)
	for _, s := range inst.sums {
		s.incomplete.Store(true)
	}
}

// errSumOverflow is a sum of ZITADEL's totals that does not fit an int64.
var errSumOverflow = errors.New("ZITADEL's totals add up to more than 2^63-1, which no installation holds; the sum is left out")

// deniedEnough is how many denials of one resource stop its calls.
const deniedEnough = 3

func newScrapeRun(ctx context.Context, src *source, rec model.Recorder) *scrapeRun {
	r := &scrapeRun{
		ctx:     ctx,
		src:     src,
		now:     src.now(),
		fails:   newFailures(),
		rec:     rec,
		checked: model.NewCheckedRecorder(rec),
		jobs:    make(chan func()),
	}
	for range src.cfg.MaxConcurrency {
		r.workers.Add(1)
		go func() {
			defer r.workers.Done()
			for job := range r.jobs {
				job()
			}
		}()
	}
	return r
}

// finish waits for every count and records the sums over organizations.
func (r *scrapeRun) finish() error {
	close(r.jobs)
	r.workers.Wait()
	for _, inst := range r.instances {
		for _, res := range r.src.plan.sums {
			s := inst.sums[res]
			switch {
			case s.overflowed.Load():
				inst.failed.Store(true)
				r.fails.add(inst.label, "", res, errSumOverflow)
				continue
			case s.incomplete.Load():
				r.fails.skip(1)
				continue
			}
			r.recordCount(inst, model.ParentInstance, inst.id, res, s.total.Load())
		}
	}
	r.keepState()
	r.recMu.Lock()
	recorded := r.recorded
	r.fails.refused(r.checked.Refused())
	r.recMu.Unlock()
	return r.fails.err(recorded)
}

// recordInstance records in and reports whether it was kept.
func (r *scrapeRun) recordInstance(in model.Instance) bool {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	if !r.checked.KeepInstance(in) {
		return false
	}
	r.recorded++
	return true
}

func (r *scrapeRun) recordCount(inst *instanceRun, parentType, parentID, resource string, n int64) {
	c := model.Count{
		InstanceID: inst.id,
		ParentType: parentType,
		ParentID:   parentID,
		Resource:   resource,
		Amount:     n,
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	r.checked.RecordCount(c)
	r.recorded++
	if parentType == model.ParentInstance && r.src.plan.countsInstance(resource) {
		inst.track.keepTotal(c)
	}
}

// recordCounts records counts taken together.
func (r *scrapeRun) recordCounts(cs []model.Count) {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	for _, c := range cs {
		r.checked.RecordCount(c)
	}
	r.recorded += len(cs)
}

// outcome of one count.
type outcome int

const (
	counted outcome = iota
	failed
	// gone: the organization was deleted after it was listed.
	gone
)

// count runs one call for inst unless an earlier answer already showed it
// would be refused, and folds a failure into the scrape's error.
func (r *scrapeRun) count(inst *instanceRun, orgID, resource string, fn func() (int64, error)) (int64, outcome) {
	if inst.unauthenticated.Load() {
		inst.failed.Store(true)
		r.fails.skip(1)
		return 0, failed
	}
	if d, ok := inst.denied.Load(resource); ok && d.(*atomic.Int32).Load() >= deniedEnough {
		inst.failed.Store(true)
		r.fails.skip(1)
		return 0, failed
	}
	n, err := fn()
	if err == nil {
		return n, counted
	}
	if status.Code(err) == codes.NotFound && orgID != "" {
		return 0, gone
	}
	inst.failed.Store(true)
	switch status.Code(err) {
	case codes.Unauthenticated:
		if inst.unauthenticated.Swap(true) {
			r.fails.skip(1)
			return 0, failed
		}
	case codes.PermissionDenied:
		d, _ := inst.denied.LoadOrStore(resource, new(atomic.Int32))
		d.(*atomic.Int32).Add(1)
	}
	r.fails.add(inst.label, orgID, resource, err)
	return 0, failed
}

// submit hands a job to a worker, or drops it when the scrape is over.
func (r *scrapeRun) submit(job func()) bool {
	select {
	case r.jobs <- job:
		return true
	case <-r.ctx.Done():
		return false
	}
}
