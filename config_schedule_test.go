package zitadeltelemetry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
)

func TestScheduleConfigLoads(t *testing.T) {
	cfg, err := loadExporterConfigFrom(t, "schedule.yaml", "daily")
	require.NoError(t, err)
	// The keys as given; Validate also kept the schedule they describe.
	assert.Equal(t, "0 2 * * *", cfg.Schedule)
	assert.Equal(t, "Europe/Zurich", cfg.TimeZone)
	assert.Equal(t, 10*time.Minute, cfg.Jitter)
	assert.Equal(t, 15*time.Minute, cfg.MaxAge)
	assert.Equal(t, &[]component.ID{component.MustNewIDWithName("file_storage", "snapshot")}[0], cfg.Storage)
	assert.True(t, cfg.SendOnShutdown)

	cfg, err = loadExporterConfigFrom(t, "schedule.yaml", "random_daily")
	require.NoError(t, err)
	assert.Equal(t, defaultMaxAge, cfg.MaxAge)
	assert.Empty(t, cfg.TimeZone, "UTC")

	cfg, err = loadExporterConfig(t, "")
	require.NoError(t, err)
	assert.Empty(t, cfg.Schedule, "without a schedule every batch is a report")
}

func TestScheduleConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"too_often", `schedule: "*/5 * * * *" runs 5m0s apart`},
		{"not_cron", `schedule: "at two" is not a cron expression or descriptor`},
		{"bad_zone", `time_zone: "Europe/Atlantis" is not an IANA time zone name`},
		{"zero_max_age", "max_age: 0s must be positive"},
		{"negative_jitter", "jitter: -1m0s must not be negative"},
		{"queue_batch_splits", "sending_queue::batch::max_size: cuts a scheduled report into partial reports; remove it"},
		{"shutdown_without_schedule", "send_on_shutdown: only sends with a schedule; set schedule"},
		{"storage_without_schedule", "storage: keeps a scheduled snapshot; set schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadExporterConfigFrom(t, "schedule.yaml", tt.name)
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
