package activity

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkLoginsOfNewApplications applies 60,000 logins in one
// organization, each with a client id never seen before, as a broken or
// hostile ZITADEL's events would, and reports the login series, the stored
// state's bytes and the heap the instance holds afterwards.
func BenchmarkLoginsOfNewApplications(b *testing.B) {
	const logins = 60_000
	now := time.Now()
	clients := make([]string, logins)
	for i := range clients {
		clients[i] = fmt.Sprintf("%d@made-up", 300000000000000000+i)
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		in := NewInstance(now.Add(-time.Hour), true)
		for _, c := range clients {
			in.Apply(&Event{
				Type: TypeOIDCSessionAdded, ResourceOwner: "310000000000000001", UserResourceOwner: "310000000000000001",
				ClientID: c, HasSession: true, UserID: "u1", CreatedAt: now,
			})
		}
		r := in.Report(now)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(len(r.Logins)), "series")
		b.ReportMetric(float64(len(in.Marshal())), "state-bytes")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
		runtime.KeepAlive(in)
	}
}
