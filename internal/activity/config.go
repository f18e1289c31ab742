package activity

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Defaults of the `activity:` block.
const (
	// DefaultLookback is how far the first read reaches back: the longest
	// active-user window.
	DefaultLookback = 30 * 24 * time.Hour
	// DefaultMaxEventsPerScrape bounds the events one scrape reads per
	// instance, so a first read of a large installation takes several
	// scrapes instead of holding up the counts. A day of 50,000 password
	// logins is 100,000 events (the login and its password check): one
	// database query, or 120 ListEvents pages.
	DefaultMaxEventsPerScrape = 120_000
)

// Config is the receiver's `activity:` block, the same on both sources.
type Config struct {
	// Enabled reads the login, check and lockout events and the milestones.
	Enabled bool `mapstructure:"enabled"`
	// Lookback is how far back the first read of an instance starts.
	Lookback time.Duration `mapstructure:"lookback"`
	// MaxEventsPerScrape bounds the events one scrape reads per instance
	// (one query on the database source; whole ListEvents pages of 1,000 on
	// the api source); the rest is read by the next scrapes.
	MaxEventsPerScrape int `mapstructure:"max_events_per_scrape"`
	// ActiveUsersPerOrganization reports active users per organization too,
	// not only per instance.
	ActiveUsersPerOrganization bool `mapstructure:"active_users_per_organization"`
	// Storage is a storage extension that keeps the counters, the read
	// position and the active users across restarts.
	Storage *component.ID `mapstructure:"storage"`

	_ struct{}
}

// NewDefaultConfig returns the defaults of the `activity:` block.
func NewDefaultConfig() Config {
	return Config{Lookback: DefaultLookback, MaxEventsPerScrape: DefaultMaxEventsPerScrape}
}

// Check checks the block; prefix names it in errors ("activity").
func (c *Config) Check(prefix string) []error {
	var errs []error
	if c.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("%s::lookback: %s must be positive", prefix, c.Lookback))
	}
	if c.MaxEventsPerScrape < 1 {
		errs = append(errs, fmt.Errorf("%s::max_events_per_scrape: %d must be at least 1", prefix, c.MaxEventsPerScrape))
	}
	return errs
}
