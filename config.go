package zitadeltelemetry

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

// Receiver sources.
const (
	SourceAPI      = "api"
	SourceDatabase = "database"
)

// ReceiverConfig configures the `zitadel` receiver.
type ReceiverConfig struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`

	// Source selects how ZITADEL is observed: `api` (default) or `database`.
	Source string `mapstructure:"source"`
	// SystemID overrides the system id the source finds (zitadel.system.id).
	SystemID string `mapstructure:"system_id"`
	// Version overrides the ZITADEL version the source finds (zitadel.version).
	Version string `mapstructure:"version"`
	// Resources selects the resource names to count; empty counts every one.
	Resources []string `mapstructure:"resources"`

	API      zitadelapi.Config `mapstructure:"api"`
	Database zitadeldb.Config  `mapstructure:"database"`

	_ struct{}
}

// Validate checks the keys that depend on each other; confmap.Validate checks
// the nested blocks on its own.
func (c *ReceiverConfig) Validate() error {
	var errs []error
	switch c.Source {
	case SourceAPI:
		if err := c.API.Required(); err != nil {
			errs = append(errs, fmt.Errorf("api: %w", err))
		}
	case SourceDatabase:
		if err := c.Database.Required(); err != nil {
			errs = append(errs, fmt.Errorf("database: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("source: %q is not a source; use %q or %q", c.Source, SourceAPI, SourceDatabase))
	}
	seen := make(map[string]bool, len(c.Resources))
	for i, r := range c.Resources {
		switch {
		case r == "":
			errs = append(errs, fmt.Errorf("resources[%d]: empty resource name", i))
		case seen[r]:
			errs = append(errs, fmt.Errorf("resources[%d]: %q is listed twice", i, r))
		}
		seen[r] = true
	}
	return errors.Join(errs...)
}
