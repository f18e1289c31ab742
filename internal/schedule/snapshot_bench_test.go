package schedule

import (
	"runtime"
	"testing"
	"time"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// plainKey and plainValue are what a snapshot would hold without interning:
// a map keyed by the five key fields, the strings shared with the batch.
type plainKey struct {
	instance, parent, resource, table string
	parentType                        analytics.CountParentType
}

type plainValue struct {
	amount          uint32
	updatedAt, seen int64
}

func updatePlain(m map[plainKey]plainValue, systems []*report.System, seen int64) {
	for _, sr := range systems {
		for _, rc := range sr.Rows() {
			var updatedAt int64
			if rc.UpdatedAt != nil {
				updatedAt = rc.UpdatedAt.Seconds*int64(time.Second) + int64(rc.UpdatedAt.Nanos)
			}
			m[plainKey{rc.InstanceId, rc.ParentId, rc.ResourceName, rc.TableName, rc.ParentType}] = plainValue{rc.Amount, updatedAt, seen}
		}
	}
}

// liveHeap is the heap in use after a full collection (two, so that pooled
// row buffers of earlier batches are gone too).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSnapshot takes the benchmark installation's 1,000,000 counts into
// a snapshot. refresh is the usual case, the next scrape of the same counts;
// fill is the first batch after a start; consume is the whole of a scheduled
// ConsumeMetrics (mapping and validation included); plain_map fills a map of
// the same keys. heap-B/row is the live heap each stored row adds beyond the
// batch, measured once per benchmark.
func BenchmarkSnapshot(b *testing.B) {
	md := testkit.BenchMetrics()
	builder := report.NewBuilder("", "", true, nil)
	built := builder.Build(md)
	defer built.Release()
	seen := testkit.Observed.UnixNano()

	b.Run("store", func(b *testing.B) {
		// What the storage extension is given and read back from it.
		s := newSnapshot()
		s.update(built.Systems(), testkit.Observed)
		for b.Loop() {
			if _, err := unmarshalSnapshot(s.marshal()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
	})
	b.Run("refresh", func(b *testing.B) {
		s := newSnapshot()
		s.update(built.Systems(), testkit.Observed)
		b.ResetTimer()
		for b.Loop() {
			s.update(built.Systems(), testkit.Observed)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
	})
	b.Run("fill", func(b *testing.B) {
		before := liveHeap()
		var s *snapshot
		for b.Loop() {
			s = newSnapshot()
			s.update(built.Systems(), testkit.Observed)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
		b.StopTimer()
		s = newSnapshot()
		s.update(built.Systems(), testkit.Observed)
		b.ReportMetric(float64(liveHeap()-before)/testkit.BenchCounts, "heap-B/row")
		runtime.KeepAlive(s)
	})
	b.Run("consume", func(b *testing.B) {
		s := newSnapshot()
		s.update(built.Systems(), testkit.Observed)
		b.ResetTimer()
		for b.Loop() {
			r := builder.Build(md)
			s.update(r.Systems(), testkit.Observed)
			r.Release()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
	})
	b.Run("plain_map", func(b *testing.B) {
		before := liveHeap()
		var m map[plainKey]plainValue
		for b.Loop() {
			m = make(map[plainKey]plainValue)
			updatePlain(m, built.Systems(), seen)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
		b.StopTimer()
		m = make(map[plainKey]plainValue)
		updatePlain(m, built.Systems(), seen)
		b.ReportMetric(float64(liveHeap()-before)/testkit.BenchCounts, "heap-B/row")
		runtime.KeepAlive(m)
	})
	b.Run("plain_map_refresh", func(b *testing.B) {
		m := make(map[plainKey]plainValue)
		updatePlain(m, built.Systems(), seen)
		b.ResetTimer()
		for b.Loop() {
			updatePlain(m, built.Systems(), seen)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*testkit.BenchCounts), "ns/count")
	})
}
