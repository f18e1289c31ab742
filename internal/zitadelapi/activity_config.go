package zitadelapi

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// Defaults of the `activity:` block.
const (
	// defaultLookback is how far the first read reaches back: the longest
	// active-user window.
	defaultLookback = 30 * 24 * time.Hour
	// defaultActivityPages bounds one scrape's event pages per instance, so
	// a first read of a large installation takes several scrapes instead of
	// holding up the counts: 60 pages are a day of 60,000 logins.
	defaultActivityPages = 60
)

// ActivityConfig is the `api::activity:` block.
type ActivityConfig struct {
	// Enabled reads the login, check and lockout events
	// (AdminService/ListEvents, events.read) and the milestones
	// (AdminService/ListMilestones, milestones.read).
	Enabled bool `mapstructure:"enabled"`
	// Lookback is how far back the first read of an instance starts.
	Lookback time.Duration `mapstructure:"lookback"`
	// MaxPagesPerScrape bounds the ListEvents pages (1,000 events each) one
	// scrape reads per instance; the rest is read by the next scrapes.
	MaxPagesPerScrape int `mapstructure:"max_pages_per_scrape"`
	// ActiveUsersPerOrganization reports active users per organization too,
	// not only per instance.
	ActiveUsersPerOrganization bool `mapstructure:"active_users_per_organization"`
	// MaxApplicationsPerOrganization is how many distinct applications the
	// login counter names per organization; logins of further ones are
	// counted as application `other`, with a warning.
	MaxApplicationsPerOrganization int `mapstructure:"max_applications_per_organization"`
	// Storage is a storage extension that keeps the counters, the read
	// position and the active users across restarts.
	Storage *component.ID `mapstructure:"storage"`

	_ struct{}
}

func newDefaultActivityConfig() ActivityConfig {
	return ActivityConfig{Lookback: defaultLookback, MaxPagesPerScrape: defaultActivityPages,
		MaxApplicationsPerOrganization: activity.DefaultApplicationsPerOrganization}
}

func (c *ActivityConfig) validate(retention time.Duration) []error {
	var errs []error
	if c.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("activity::lookback: %s must be positive", c.Lookback))
	}
	if c.MaxPagesPerScrape < 1 {
		errs = append(errs, fmt.Errorf("activity::max_pages_per_scrape: %d must be at least 1", c.MaxPagesPerScrape))
	}
	if c.MaxApplicationsPerOrganization < 1 {
		errs = append(errs, fmt.Errorf("activity::max_applications_per_organization: %d must be at least 1", c.MaxApplicationsPerOrganization))
	}
	if c.Enabled && retention > 0 && c.Lookback > retention {
		errs = append(errs, fmt.Errorf("activity::lookback: %s is longer than audit_log_retention (%s): ZITADEL hides older events, "+
			"so the counters would claim a start they cannot have; set lookback to at most %s", c.Lookback, retention, retention))
	}
	return errs
}
