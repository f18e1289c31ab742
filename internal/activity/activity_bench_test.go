package activity

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
)

var benchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// monthOfLogins applies one login of each of users spread over orgs and 30 days.
func monthOfLogins(in *Instance, users, orgs int) {
	e := Event{Type: TypeOIDCSessionAdded, ClientID: "app", HasSession: true, AuthMethods: []int{4}}
	for u := range users {
		e.UserID = fmt.Sprintf("user-%d", u)
		e.UserResourceOwner = fmt.Sprintf("org-%d", u%orgs)
		e.CreatedAt = benchNow.Add(-time.Duration(u%(30*24*60)) * time.Minute)
		in.Apply(&e)
	}
}

// TestActiveUsersEstimateError measures the sketch's error above ExactLimit
// and holds it within three standard errors of precision 14 (3 × 0.81%).
func TestActiveUsersEstimateError(t *testing.T) {
	for _, users := range []int{ExactLimit - 1, 50_000, 1_000_000} {
		in := newInstance(benchNow.Add(-30*24*time.Hour), false, make([]byte, hashKeySize))
		in.CaughtUp = true
		monthOfLogins(in, users, 1)
		r := in.Report(benchNow)
		got := r.Active[2] // instance, human, 30d
		require30d(t, got)
		relErr := math.Abs(float64(got.Users)-float64(users)) / float64(users)
		t.Logf("%d users: reported %d (exact %v), error %.3f%%", users, got.Users, got.Exact, 100*relErr)
		if users < ExactLimit {
			if got.Users != uint64(users) || !got.Exact {
				t.Errorf("below ExactLimit the count must be exact: %d for %d", got.Users, users)
			}
			continue
		}
		if relErr > 3*0.0081 {
			t.Errorf("%d users estimated as %d: %.2f%% off", users, got.Users, 100*relErr)
		}
	}
}

func require30d(t *testing.T, a ActiveUsers) {
	t.Helper()
	if a.Window != "30d" || a.ParentType != ParentInstance || a.UserType != UserHuman {
		t.Fatalf("unexpected series %+v", a)
	}
}

// BenchmarkActiveUsersMemory builds the state of 1,000,000 monthly active
// users over 10,000 organizations, per instance and per organization, and
// reports the heap it holds.
func BenchmarkActiveUsersMemory(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		in := newInstance(benchNow.Add(-30*24*time.Hour), true, make([]byte, hashKeySize))
		monthOfLogins(in, 1_000_000, 10_000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-held")
		b.ReportMetric(float64(len(in.Marshal()))/(1<<20), "MB-stored")
		runtime.KeepAlive(in)
	}
}

// BenchmarkApply is the client CPU of counting one login event: the keyed
// hash, the counters and the instance's and organization's user sets.
func BenchmarkApply(b *testing.B) {
	in := newInstance(benchNow.Add(-30*24*time.Hour), true, make([]byte, hashKeySize))
	events := make([]Event, 100_000)
	for i := range events {
		events[i] = Event{
			Type: TypeOIDCSessionAdded, ClientID: "app", HasSession: true, AuthMethods: []int{4},
			UserID: fmt.Sprintf("user-%d", i), UserResourceOwner: fmt.Sprintf("org-%d", i%100), CreatedAt: benchNow,
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in.Apply(&events[i%len(events)])
	}
}
