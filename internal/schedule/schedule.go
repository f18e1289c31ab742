package zitadeltelemetry

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

const (
	// minRunGap is ZITADEL's own lower bound for its service ping interval.
	minRunGap = 30 * time.Minute
	// defaultMaxAge is three of the receiver's default collection intervals
	// (1h): a count two scrapes in a row did not refresh is gone.
	defaultMaxAge = 3 * time.Hour
	// gapHorizon is how far ahead a cron schedule's runs are compared: a year
	// holds every calendar day and both daylight saving changes of the zone.
	gapHorizon = 366 * 24 * time.Hour
	// dailyDescriptor is the schedule ZITADEL spreads over the day.
	dailyDescriptor = "@daily"
)

// ScheduleConfig turns the exporter from one report per batch into one
// report per system at scheduled times, from a snapshot of the newest counts.
type ScheduleConfig struct {
	// Schedule is a 5-field cron expression or a descriptor (@daily, @hourly,
	// @every 6h). @daily picks a random minute and hour once per start, as
	// ZITADEL does. Empty sends every batch as it comes.
	Schedule string `mapstructure:"schedule"`
	// TimeZone is the IANA zone the cron expression is read in; default UTC.
	TimeZone string `mapstructure:"time_zone"`
	// Jitter delays each run by a random duration below it.
	Jitter time.Duration `mapstructure:"jitter"`
	// MaxAge drops counts that no batch refreshed for this long.
	MaxAge time.Duration `mapstructure:"max_age"`
	// Storage names a storage extension that keeps the snapshot across
	// restarts.
	Storage *component.ID `mapstructure:"storage"`
	// SendOnShutdown sends the snapshot once more on a clean stop.
	SendOnShutdown bool `mapstructure:"send_on_shutdown"`
}

// validate checks the schedule keys; queue is the exporter's sending_queue,
// whose batching would cut a scheduled report into pieces again.
func (c *ScheduleConfig) validate(queue configoptional.Optional[exporterhelper.QueueBatchConfig]) []error {
	if c.Schedule == "" {
		var errs []error
		if c.SendOnShutdown {
			errs = append(errs, errors.New("send_on_shutdown: only sends with a schedule; set schedule"))
		}
		if c.Storage != nil {
			errs = append(errs, errors.New("storage: keeps a scheduled snapshot; set schedule, or use sending_queue::storage for the queue"))
		}
		if c.Jitter != 0 {
			errs = append(errs, errors.New("jitter: spreads scheduled runs; set schedule"))
		}
		if c.TimeZone != "" {
			errs = append(errs, errors.New("time_zone: reads the schedule; set schedule"))
		}
		return errs
	}
	var errs []error
	if c.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("max_age: %s must be positive", c.MaxAge))
	}
	if c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("jitter: %s must not be negative", c.Jitter))
	}
	if queue.HasValue() {
		if b := queue.Get().Batch; b.HasValue() && b.Get().MaxSize > 0 {
			errs = append(errs, errors.New("sending_queue::batch::max_size: cuts a scheduled report into partial reports; remove it"))
		}
	}
	if _, err := newReportSchedule(c, rand.New(rand.NewPCG(0, 0)), time.Now()); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// reportSchedule says when the next report is due.
type reportSchedule struct {
	expr   string // the expression in effect: @daily is replaced by its pick
	spec   *cron.SpecSchedule
	every  time.Duration
	zone   *time.Location
	jitter time.Duration
	rnd    *rand.Rand
}

// newReportSchedule parses the schedule keys; rnd picks the @daily time and
// the jitter, from is where the 30-minute rule starts looking.
func newReportSchedule(c *ScheduleConfig, rnd *rand.Rand, from time.Time) (*reportSchedule, error) {
	zone := time.UTC
	if c.TimeZone != "" {
		z, err := time.LoadLocation(c.TimeZone)
		if err != nil || c.TimeZone == "Local" {
			return nil, fmt.Errorf("time_zone: %q is not an IANA time zone name such as Europe/Zurich", c.TimeZone)
		}
		zone = z
	}
	expr := strings.TrimSpace(c.Schedule)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule: %q names a zone; set it with time_zone", c.Schedule)
	}
	if expr == dailyDescriptor {
		expr = fmt.Sprintf("%d %d * * *", rnd.IntN(60), rnd.IntN(24))
	}
	parsed, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule: %q is not a cron expression or descriptor: %w", c.Schedule, err)
	}
	s := &reportSchedule{expr: expr, zone: zone, jitter: c.Jitter, rnd: rnd}
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		// The expression is matched against the wall clock of the zone; see nominalNext.
		p.Location = time.UTC
		s.spec = p
	case cron.ConstantDelaySchedule:
		s.every = p.Delay
	default:
		return nil, fmt.Errorf("schedule: %q is not a cron expression or descriptor", c.Schedule)
	}
	gap, at := s.shortestGap(from)
	if gap == 0 {
		return nil, fmt.Errorf("schedule: %q never runs", c.Schedule)
	}
	if gap < minRunGap {
		return nil, fmt.Errorf("schedule: %q runs %s apart (at %s); runs must be at least %s apart",
			c.Schedule, gap, at.Format(time.RFC3339), minRunGap)
	}
	if gap-c.Jitter < minRunGap {
		return nil, fmt.Errorf("jitter: %s can bring runs of schedule %q, %s apart, closer than %s",
			c.Jitter, c.Schedule, gap, minRunGap)
	}
	return s, nil
}

// shortestGap is the shortest time between two runs within gapHorizon of
// from, and when the later of the two is; 0 when it never runs.
func (s *reportSchedule) shortestGap(from time.Time) (time.Duration, time.Time) {
	if s.spec == nil {
		return s.every, from.Add(s.every)
	}
	prev := s.nominalNext(from)
	if prev.IsZero() {
		return 0, time.Time{}
	}
	shortest, at := time.Duration(-1), prev
	end := from.Add(gapHorizon)
	for prev.Before(end) {
		next := s.nominalNext(prev)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(prev); shortest < 0 || gap < shortest {
			shortest, at = gap, next
			if gap < minRunGap {
				break
			}
		}
		prev = next
	}
	if shortest < 0 {
		// One run within the horizon (a year); the next is at least that far away.
		return gapHorizon, at
	}
	return shortest, at
}

// nominalNext is the first run after t, before jitter. A cron expression is
// matched against the zone's wall clock, so a daily run happens once a day
// across daylight saving changes: a time the clock skips runs at the same
// instant one hour later on the clock, a time the clock repeats runs once.
func (s *reportSchedule) nominalNext(t time.Time) time.Time {
	if s.spec == nil {
		return t.Add(s.every)
	}
	w := t.In(s.zone)
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	for {
		n := s.spec.Next(wall)
		if n.IsZero() {
			return time.Time{}
		}
		run := time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), 0, s.zone)
		// Of a wall time the clock shows twice, the first.
		for _, back := range []time.Duration{time.Hour, 30 * time.Minute} {
			if earlier := run.Add(-back); earlier.After(t) && sameWallClock(earlier, run) {
				run = earlier
				break
			}
		}
		if run.After(t) {
			return run
		}
		wall = n // the first of a repeated wall time, already past
	}
}

func sameWallClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}

// next is the first run after the nominal run prev (or after the start time),
// jitter included: the run is due at the returned time, the schedule goes on
// from the nominal one.
func (s *reportSchedule) next(after time.Time) (nominal, due time.Time) {
	nominal = s.nominalNext(after)
	due = nominal
	if s.jitter > 0 && !nominal.IsZero() {
		due = nominal.Add(time.Duration(s.rnd.Int64N(int64(s.jitter))))
	}
	return nominal, due
}
