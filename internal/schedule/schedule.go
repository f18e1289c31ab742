package schedule

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
	// gapHorizon is how far ahead a cron schedule's runs are compared: a year
	// holds every calendar day and both daylight saving changes of the zone.
	gapHorizon = 366 * 24 * time.Hour
	// dailyDescriptor is the schedule ZITADEL spreads over the day.
	dailyDescriptor = "@daily"
)

// Config turns the exporter from one report per batch into one
// report per system at scheduled times, from a snapshot of the newest counts.
type Config struct {
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

	// parsed is the schedule Validate parsed and checked, which the
	// exporter then runs on: the keys are read once.
	parsed *Schedule
}

// Validate checks the schedule keys and keeps the schedule they describe;
// queue is the exporter's sending_queue, whose batching would cut a
// scheduled report into pieces again.
func (c *Config) Validate(queue configoptional.Optional[exporterhelper.QueueBatchConfig]) []error {
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
	parsed, err := parse(c, time.Now())
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		c.parsed = parsed
	}
	return errs
}

// start is the schedule the exporter runs: the one Validate parsed (a
// configuration built in code and never validated is parsed here), with rnd
// picking @daily's time and the jitter.
func (c *Config) start(rnd *rand.Rand, from time.Time) (*Schedule, error) {
	parsed := c.parsed
	if parsed == nil {
		var err error
		if parsed, err = parse(c, from); err != nil {
			return nil, err
		}
	}
	return parsed.withRandom(rnd)
}

// Schedule says when the next report is due.
type Schedule struct {
	expr   string // the expression in effect: @daily is replaced by its pick
	daily  bool   // @daily, whose time withRandom picks
	spec   *cron.SpecSchedule
	every  time.Duration
	zone   *time.Location
	jitter time.Duration
	rnd    *rand.Rand
}

// parse reads the schedule keys; from is where the 30-minute rule starts
// looking. @daily is checked as midnight: whatever time withRandom picks
// runs a day apart.
func parse(c *Config, from time.Time) (*Schedule, error) {
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
	daily := expr == dailyDescriptor
	if daily {
		expr = dailyAt(0, 0)
	}
	s := &Schedule{expr: expr, daily: daily, zone: zone, jitter: c.Jitter}
	if err := s.read(c.Schedule); err != nil {
		return nil, err
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

func dailyAt(minute, hour int) string { return fmt.Sprintf("%d %d * * *", minute, hour) }

// read parses s.expr; schedule is the key's value, for the error.
func (s *Schedule) read(schedule string) error {
	parsed, err := cron.ParseStandard(s.expr)
	if err != nil {
		return fmt.Errorf("schedule: %q is not a cron expression or descriptor: %w", schedule, err)
	}
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		// The expression is matched against the wall clock of the zone; see nominalNext.
		p.Location = time.UTC
		s.spec = p
	case cron.ConstantDelaySchedule:
		s.every = p.Delay
	default:
		return fmt.Errorf("schedule: %q is not a cron expression or descriptor", schedule)
	}
	return nil
}

// withRandom is the schedule a start runs: rnd draws the jitter and, for
// @daily, picks the minute and hour once, as ZITADEL does.
func (s *Schedule) withRandom(rnd *rand.Rand) (*Schedule, error) {
	run := *s
	run.rnd = rnd
	if s.daily {
		run.expr = dailyAt(rnd.IntN(60), rnd.IntN(24))
		if err := run.read(dailyDescriptor); err != nil {
			return nil, err
		}
	}
	return &run, nil
}

// shortestGap is the shortest time between two runs within gapHorizon of
// from, and when the later of the two is; 0 when it never runs.
func (s *Schedule) shortestGap(from time.Time) (time.Duration, time.Time) {
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
func (s *Schedule) nominalNext(t time.Time) time.Time {
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
func (s *Schedule) next(after time.Time) (nominal, due time.Time) {
	nominal = s.nominalNext(after)
	due = nominal
	if s.jitter > 0 && !nominal.IsZero() {
		due = nominal.Add(time.Duration(s.rnd.Int64N(int64(s.jitter))))
	}
	return nominal, due
}
