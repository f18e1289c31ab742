package zitadelapi

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// DeprecatedActivityConfig is the `api::activity:` block, replaced by the
// receiver's top-level `activity:` block and read for one more release.
type DeprecatedActivityConfig struct {
	Enabled  bool          `mapstructure:"enabled"`
	Lookback time.Duration `mapstructure:"lookback"`
	// MaxPagesPerScrape is ListEvents pages of 1,000 events: the top-level
	// block's max_events_per_scrape in thousands.
	MaxPagesPerScrape          int           `mapstructure:"max_pages_per_scrape"`
	ActiveUsersPerOrganization bool          `mapstructure:"active_users_per_organization"`
	Storage                    *component.ID `mapstructure:"storage"`

	_ struct{}
}

// Block is the top-level `activity:` block this one says.
func (c *DeprecatedActivityConfig) Block() activity.Config {
	return activity.Config{
		Enabled:                    c.Enabled,
		Lookback:                   c.Lookback,
		MaxEventsPerScrape:         c.MaxPagesPerScrape * maxEventPage,
		ActiveUsersPerOrganization: c.ActiveUsersPerOrganization,
		Storage:                    c.Storage,
	}
}

func newDefaultDeprecatedActivityConfig() DeprecatedActivityConfig {
	d := activity.NewDefaultConfig()
	return DeprecatedActivityConfig{Lookback: d.Lookback, MaxPagesPerScrape: (d.MaxEventsPerScrape + maxEventPage - 1) / maxEventPage}
}

func (c *DeprecatedActivityConfig) validate() []error {
	if c.MaxPagesPerScrape < 1 {
		return []error{fmt.Errorf("activity::max_pages_per_scrape: %d must be at least 1", c.MaxPagesPerScrape)}
	}
	b := c.Block()
	return b.Check("activity")
}

// CheckActivity holds the receiver's `activity:` block to ZITADEL's
// audit_log_retention, which hides older events from ListEvents.
func (c *Config) CheckActivity(act *activity.Config) []error {
	if act.Enabled && c.AuditLogRetention > 0 && act.Lookback > c.AuditLogRetention {
		return []error{fmt.Errorf("activity::lookback: %s is longer than api::audit_log_retention (%s): ZITADEL hides older events, "+
			"so the counters would claim a start they cannot have; set lookback to at most %s", act.Lookback, c.AuditLogRetention, c.AuditLogRetention)}
	}
	return nil
}
