package schedule

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

var scheduleFrom = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func mustSchedule(t *testing.T, cfg Config, seed uint64) *Schedule {
	t.Helper()
	s, err := (&cfg).start(rand.New(rand.NewPCG(seed, seed)), scheduleFrom)
	require.NoError(t, err)
	return s
}

// runs lists the next n nominal runs after from.
func runs(s *Schedule, from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for t := from; len(out) < n; {
		t, _ = s.next(t)
		out = append(out, t.UTC())
	}
	return out
}

func TestScheduleCronAndDescriptors(t *testing.T) {
	tests := []struct {
		schedule string
		want     []time.Time
	}{
		{"0 2 * * *", []time.Time{
			time.Date(2026, 1, 11, 2, 0, 0, 0, time.UTC), time.Date(2026, 1, 12, 2, 0, 0, 0, time.UTC),
		}},
		{"30 */6 * * 1-5", []time.Time{ // 10 January 2026 is a Saturday
			time.Date(2026, 1, 12, 0, 30, 0, 0, time.UTC), time.Date(2026, 1, 12, 6, 30, 0, 0, time.UTC)}},
		{"@hourly", []time.Time{
			time.Date(2026, 1, 10, 13, 0, 0, 0, time.UTC), time.Date(2026, 1, 10, 14, 0, 0, 0, time.UTC),
		}},
		{"@every 6h", []time.Time{
			time.Date(2026, 1, 10, 18, 0, 0, 0, time.UTC), time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC),
		}},
		{"@every 30m", []time.Time{
			time.Date(2026, 1, 10, 12, 30, 0, 0, time.UTC), time.Date(2026, 1, 10, 13, 0, 0, 0, time.UTC),
		}},
		{"@weekly", []time.Time{
			time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 18, 0, 0, 0, 0, time.UTC),
		}},
		{"@midnight", []time.Time{ // only @daily is spread, as in ZITADEL
			time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)}},
		{"0,30 * * * *", []time.Time{
			time.Date(2026, 1, 10, 12, 30, 0, 0, time.UTC), time.Date(2026, 1, 10, 13, 0, 0, 0, time.UTC),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			s := mustSchedule(t, Config{Schedule: tt.schedule}, 1)
			assert.Equal(t, tt.want, runs(s, scheduleFrom, 2))
		})
	}
}

func TestScheduleRefusesRunsCloserThan30Minutes(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Schedule: "*/10 * * * *"}, `schedule: "*/10 * * * *" runs 10m0s apart`},
		{Config{Schedule: "0,20 * * * *"}, `schedule: "0,20 * * * *" runs 20m0s apart`},
		{Config{Schedule: "@every 29m59s"}, `schedule: "@every 29m59s" runs 29m59s apart`},
		{Config{Schedule: "* * * * *"}, `runs 1m0s apart (at 2026-01-10T12:02:00Z); runs must be at least 30m0s apart`},
		// Across midnight: 23:50 and 00:10 are 20 minutes apart.
		{Config{Schedule: "10,50 0,23 * * *"}, `runs 20m0s apart`},
		// 01:50 to 03:10 is 80 minutes on the wall clock, and 20 when the
		// clock skips 02:00 to 03:00 (Berlin, 29 March 2026).
		{Config{Schedule: "10,50 1,3 * * *", TimeZone: "Europe/Berlin"}, `runs 20m0s apart (at 2026-03-29T03:10:00+02:00)`},
		{Config{Schedule: "@hourly", Jitter: 31 * time.Minute}, `jitter: 31m0s can bring runs of schedule "@hourly", 1h0m0s apart, closer than 30m0s`},
		{Config{Schedule: "0 0 30 2 *"}, `schedule: "0 0 30 2 *" never runs`},
		{Config{Schedule: "0 2 * *"}, `schedule: "0 2 * *" is not a cron expression or descriptor: expected exactly 5 fields`},
		{Config{Schedule: "@fortnightly"}, `schedule: "@fortnightly" is not a cron expression or descriptor`},
		{Config{Schedule: "0 2 * * * *"}, `expected exactly 5 fields`},
		{Config{Schedule: "CRON_TZ=Europe/Berlin 0 2 * * *"}, `schedule: "CRON_TZ=Europe/Berlin 0 2 * * *" names a zone; set it with time_zone`},
		{Config{Schedule: "0 2 * * *", TimeZone: "Mars/Olympus"}, `time_zone: "Mars/Olympus" is not an IANA time zone name`},
		{Config{Schedule: "0 2 * * *", TimeZone: "Local"}, `time_zone: "Local" is not an IANA time zone name`},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Schedule, func(t *testing.T) {
			_, err := (&tt.cfg).start(rand.New(rand.NewPCG(1, 1)), scheduleFrom)
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	// The same Berlin expression is fine in UTC, which has no skipped hour.
	mustSchedule(t, Config{Schedule: "10,50 1,3 * * *"}, 1)
	mustSchedule(t, Config{Schedule: "@hourly", Jitter: 30 * time.Minute}, 1)
}

var dailyPick = regexp.MustCompile(`^(\d+) (\d+) \* \* \*$`)

func TestDailyPicksARandomMinuteAndHourOncePerStart(t *testing.T) {
	hours, minutes := map[int]bool{}, map[int]bool{}
	for seed := range uint64(600) {
		s := mustSchedule(t, Config{Schedule: "@daily"}, seed)
		m := dailyPick.FindStringSubmatch(s.expr)
		require.NotNil(t, m, "@daily became %q", s.expr)
		minute, _ := strconv.Atoi(m[1])
		hour, _ := strconv.Atoi(m[2])
		require.True(t, minute >= 0 && minute < 60 && hour >= 0 && hour < 24, "%q out of bounds", s.expr)
		minutes[minute], hours[hour] = true, true

		// The pick holds for the whole run: every run is at that time of day.
		for _, r := range runs(s, scheduleFrom, 3) {
			require.Equal(t, [2]int{hour, minute}, [2]int{r.Hour(), r.Minute()})
		}
	}
	assert.Len(t, hours, 24, "every hour can be picked")
	assert.Len(t, minutes, 60, "every minute can be picked")
	first, second := mustSchedule(t, Config{Schedule: "@daily"}, 7), mustSchedule(t, Config{Schedule: "@daily"}, 7)
	assert.Equal(t, first.expr, second.expr, "the pick comes from the random source alone")
}

func TestScheduleTimeZoneAcrossDaylightSavingChanges(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := func(zone *time.Location, y int, mo time.Month, d, h, mi int) time.Time {
		return time.Date(y, mo, d, h, mi, 0, 0, zone).UTC()
	}
	tests := []struct {
		name     string
		schedule string
		from     time.Time
		want     []time.Time
	}{{
		name: "02:00 every day, the clock skips 02:00 to 03:00 on 29 March", schedule: "0 2 * * *",
		from: at(berlin, 2026, 3, 27, 12, 0),
		// 02:00 does not exist on the 29th: the run is at that instant, 03:00 summer time.
		want: []time.Time{at(berlin, 2026, 3, 28, 2, 0), at(berlin, 2026, 3, 29, 3, 0), at(berlin, 2026, 3, 30, 2, 0)},
	}, {
		name: "02:30 every day, the clock repeats 02:00 to 03:00 on 25 October", schedule: "30 2 * * *",
		from: at(berlin, 2026, 10, 24, 12, 0),
		want: []time.Time{
			time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), // 02:30 summer time, the first of two
			time.Date(2026, 10, 26, 1, 30, 0, 0, time.UTC),
		},
	}, {
		name: "every day at 02:00 in Berlin is 01:00 UTC in winter, 00:00 in summer", schedule: "0 2 * * *",
		from: at(berlin, 2026, 1, 10, 12, 0),
		want: []time.Time{time.Date(2026, 1, 11, 1, 0, 0, 0, time.UTC), time.Date(2026, 1, 12, 1, 0, 0, 0, time.UTC)},
	}, {
		name: "@every is a fixed duration, whatever the clock does", schedule: "@every 12h",
		from: at(berlin, 2026, 3, 28, 20, 0),
		want: []time.Time{at(berlin, 2026, 3, 29, 9, 0), at(berlin, 2026, 3, 29, 21, 0)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchedule(t, Config{Schedule: tt.schedule, TimeZone: "Europe/Berlin"}, 1)
			assert.Equal(t, tt.want, runs(s, tt.from, len(tt.want)))
		})
	}
}

func TestJitterDelaysEachRunWithinItsBound(t *testing.T) {
	s := mustSchedule(t, Config{Schedule: "0 2 * * *", Jitter: 10 * time.Minute}, 3)
	delays := map[time.Duration]bool{}
	after := scheduleFrom
	for range 200 {
		nominal, due := s.next(after)
		require.Equal(t, 2, nominal.Hour())
		require.Zero(t, nominal.Minute())
		delay := due.Sub(nominal)
		require.True(t, delay >= 0 && delay < 10*time.Minute, "delay %s", delay)
		delays[delay] = true
		after = nominal // the schedule goes on from the nominal run
	}
	assert.Greater(t, len(delays), 150, "the delay differs from run to run")
}

func TestScheduleKeysNeedASchedule(t *testing.T) {
	for name, cfg := range map[string]Config{
		"send_on_shutdown: only sends with a schedule": {SendOnShutdown: true},
		"jitter: spreads scheduled runs":               {Jitter: time.Minute},
		"time_zone: reads the schedule":                {TimeZone: "UTC"},
	} {
		t.Run(name, func(t *testing.T) {
			errs := cfg.Validate(defaultQueue())
			require.Len(t, errs, 1)
			assert.ErrorContains(t, errs[0], name)
		})
	}
	assert.Empty(t, (&Config{MaxAge: time.Hour}).Validate(defaultQueue()))
}

func ExampleConfig() {
	cfg := Config{Schedule: "0 2 * * *", TimeZone: "Europe/Zurich"}
	s, _ := (&cfg).start(rand.New(rand.NewPCG(1, 1)), scheduleFrom)
	next, _ := s.next(scheduleFrom)
	fmt.Println(next.In(s.zone).Format(time.RFC3339))
	// Output: 2026-01-11T02:00:00+01:00
}

// defaultQueue is the exporter's default sending_queue, which has no batch.
func defaultQueue() configoptional.Optional[exporterhelper.QueueBatchConfig] {
	return configoptional.Some(exporterhelper.NewDefaultQueueConfig())
}

// Validate reads the keys once: the exporter runs the schedule it parsed,
// and never reads the expression again.
func TestValidateParsesTheScheduleOnce(t *testing.T) {
	cfg := Config{Schedule: "0 2 * * *", MaxAge: time.Hour}
	require.Empty(t, cfg.Validate(defaultQueue()))
	cfg.Schedule = "not read again"
	s, err := cfg.start(rand.New(rand.NewPCG(1, 1)), scheduleFrom)
	require.NoError(t, err)
	assert.Equal(t, "0 2 * * *", s.expr)

	daily := Config{Schedule: "@daily", MaxAge: time.Hour}
	require.Empty(t, daily.Validate(defaultQueue()))
	first, err := daily.start(rand.New(rand.NewPCG(1, 1)), scheduleFrom)
	require.NoError(t, err)
	again, err := daily.start(rand.New(rand.NewPCG(1, 1)), scheduleFrom)
	require.NoError(t, err)
	assert.Equal(t, first.expr, again.expr, "one seed, one pick")
	assert.Regexp(t, dailyPick, first.expr)
}
