package activity

import (
	"time"

	"github.com/axiomhq/hyperloglog"
)

// ExactLimit is the number of distinct users of one type under one parent,
// over the longest window, from which that parent's users are counted by a
// sketch instead of exactly.
const ExactLimit = 10_000

// Windows are the active-user windows: a day, a week and 30 days.
var Windows = []struct {
	Name  string
	Hours int64
}{{"1d", 24}, {"7d", 7 * 24}, {"30d", 30 * 24}}

// longestMinutes is the longest window in minutes: older logins are dropped.
const longestMinutes = 30 * 24 * 60

// minuteOf is a time in whole minutes since the Unix epoch.
func minuteOf(t time.Time) uint32 { return uint32(t.Unix() / 60) }

// userSet is the distinct users of one type under one parent: exactly,
// by the minute of each user's last login, until ExactLimit users; then as
// sketches.
type userSet struct {
	last   map[uint64]uint32 // keyed user hash -> minute of the last login
	sketch *sketchWindows
}

func newUserSet() *userSet { return &userSet{last: map[uint64]uint32{}} }

// add records a login of the user hashed to h at minute m.
func (s *userSet) add(h uint64, m uint32) {
	if s.sketch != nil {
		s.sketch.add(h, m)
		return
	}
	if prev, ok := s.last[h]; !ok || m > prev {
		s.last[h] = m
	}
	if len(s.last) >= ExactLimit {
		s.toSketch()
	}
}

func (s *userSet) toSketch() {
	s.sketch = &sketchWindows{hours: map[int64]*hyperloglog.Sketch{}, days: map[int64]*hyperloglog.Sketch{}}
	for h, m := range s.last {
		s.sketch.add(h, m)
	}
	s.last = nil
}

// expire forgets logins older than the longest window before minute now.
func (s *userSet) expire(now uint32) {
	if s.sketch != nil {
		s.sketch.expire(now)
		return
	}
	for h, m := range s.last {
		if m+longestMinutes <= now {
			delete(s.last, h)
		}
	}
}

// count returns the distinct users with a login in the hours before minute
// now, and whether the number is exact.
func (s *userSet) count(now uint32, hours int64) (uint64, bool) {
	if s.sketch != nil {
		return s.sketch.count(now, hours), false
	}
	var n uint64
	from := int64(now) - hours*60
	for _, m := range s.last {
		if int64(m) > from {
			n++
		}
	}
	return n, true
}

// empty reports whether the set holds no login.
func (s *userSet) empty() bool { return s.sketch == nil && len(s.last) == 0 }

// sketchWindows keeps one sketch per hour for the last 24 hours and one per
// UTC day before: a window then counts the users of every bucket it
// overlaps, so the 1-day window is exact to the hour and the longer ones
// reach back at most one day further than they say.
type sketchWindows struct {
	hours map[int64]*hyperloglog.Sketch // by hours since the epoch
	days  map[int64]*hyperloglog.Sketch // by days since the epoch
	now   int64                         // the newest hour seen
}

func (w *sketchWindows) add(h uint64, m uint32) {
	hour := int64(m) / 60
	if hour > w.now {
		w.now = hour
	}
	w.bucket(hour).InsertHash(h)
}

func (w *sketchWindows) bucket(hour int64) *hyperloglog.Sketch {
	if hour > w.now-24 {
		return getSketch(w.hours, hour)
	}
	return getSketch(w.days, hour/24)
}

func getSketch(m map[int64]*hyperloglog.Sketch, k int64) *hyperloglog.Sketch {
	sk, ok := m[k]
	if !ok {
		// Dense from the start: a sparse sketch merges its list again and
		// again as users arrive, the main cost of counting a login above
		// ExactLimit; the 16 KB of a dense one are held only by the parents
		// above it.
		sk = hyperloglog.NewNoSparse()
		m[k] = sk
	}
	return sk
}

// expire moves hours older than a day into their day's sketch and drops
// days wholly older than the longest window.
func (w *sketchWindows) expire(now uint32) {
	nowHour := int64(now) / 60
	if nowHour > w.now {
		w.now = nowHour
	}
	for hour, sk := range w.hours {
		if hour <= w.now-24 {
			_ = getSketch(w.days, hour/24).Merge(sk) // one precision everywhere: cannot fail
			delete(w.hours, hour)
		}
	}
	for day := range w.days {
		if (day+1)*24 <= nowHour-30*24 {
			delete(w.days, day)
		}
	}
}

func (w *sketchWindows) count(now uint32, hours int64) uint64 {
	from := int64(now)/60 - hours // buckets ending after this hour overlap
	union := hyperloglog.New14()
	for hour, sk := range w.hours {
		if hour >= from {
			_ = union.Merge(sk)
		}
	}
	for day, sk := range w.days {
		if (day+1)*24 > from {
			_ = union.Merge(sk)
		}
	}
	return union.Estimate()
}
