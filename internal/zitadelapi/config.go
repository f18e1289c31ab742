// Package zitadelapi is the receiver's `api` source: it counts a ZITADEL
// installation's resources through ZITADEL's public gRPC APIs.
package zitadelapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
)

// Limits of the API, and defaults chosen for them.
const (
	// maxPageSize is ZITADEL's MaxQueryLimit for paged lists.
	maxPageSize           = 1000
	defaultPageSize       = 500
	defaultMaxConcurrency = 8
	defaultRequestTimeout = 30 * time.Second
	defaultMaxRetries     = 4
	defaultInitialBackoff = time.Second
	defaultMaxBackoff     = 30 * time.Second
	defaultFullScrape     = 24 * time.Hour
)

// Config is the `api:` block of the zitadel receiver.
type Config struct {
	// Endpoint, TLS (on by default), headers, keepalive, compression and an
	// `auth` extension, which replaces the credentials below.
	configgrpc.ClientConfig `mapstructure:",squash"`

	// Token is a personal access token of a service user.
	Token configopaque.String `mapstructure:"token"`
	// TokenFile holds a personal access token; it is read again when ZITADEL
	// rejects the token and at every scrape, so a rotated token is picked up.
	TokenFile string `mapstructure:"token_file"`
	// KeyFile is a service user's JSON key (JWT profile), exchanged for an
	// access token at TokenURL.
	KeyFile string `mapstructure:"key_file"`
	// SystemUser signs its own tokens for ZITADEL's system API users.
	SystemUser SystemUserConfig `mapstructure:"system_user"`

	// Issuer is ZITADEL's external URL, the audience of the JWTs this source
	// signs. Derived from the endpoint when empty.
	Issuer string `mapstructure:"issuer"`
	// TokenURL is the OAuth token endpoint for key_file; Issuer + /oauth/v2/token when empty.
	TokenURL string `mapstructure:"token_url"`

	// Instances selects the instances to count; the endpoint's own by default.
	Instances InstancesConfig `mapstructure:"instances"`

	// PerOrganization adds the per-organization counts; false keeps only the
	// instance totals (one call each) for very large installations.
	PerOrganization bool `mapstructure:"per_organization"`
	// PageSize is the page length when listing organizations, projects and instances.
	PageSize int `mapstructure:"page_size"`
	// MaxConcurrency bounds the organizations counted at the same time.
	MaxConcurrency int `mapstructure:"max_concurrency"`
	// RequestsPerSecond caps the request rate over all calls; 0 means no cap.
	RequestsPerSecond float64 `mapstructure:"requests_per_second"`
	// RequestTimeout bounds each call.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// Retry backs off on RESOURCE_EXHAUSTED and UNAVAILABLE.
	Retry RetryConfig `mapstructure:"retry"`

	// Incremental re-counts, after one full scrape, only the organizations
	// that ZITADEL's events (AdminService/ListEvents) show changed.
	Incremental bool `mapstructure:"incremental"`
	// FullScrapeInterval is how often an incremental source still counts
	// everything.
	FullScrapeInterval time.Duration `mapstructure:"full_scrape_interval"`
	// AuditLogRetention is ZITADEL's AuditLogRetention, when it is set.
	// ZITADEL hides older events without an error, so an incremental scrape
	// could not see that it missed some; a full scrape at least every half
	// of it keeps every event an incremental scrape reads inside it, with
	// room for the overlap of the reads and the clocks of two machines.
	AuditLogRetention time.Duration `mapstructure:"audit_log_retention"`

	// Activity is the deprecated place of the receiver's `activity:` block.
	Activity DeprecatedActivityConfig `mapstructure:"activity"`

	_ struct{}
}

// SystemUserConfig is a system API user of ZITADEL's runtime configuration
// (SystemAPIUsers).
type SystemUserConfig struct {
	// UserID is the user's key in SystemAPIUsers (lowercase).
	UserID string `mapstructure:"user_id"`
	// KeyFile is the user's RSA private key (PEM). It is read again before
	// every new token.
	KeyFile string `mapstructure:"key_file"`

	_ struct{}
}

// InstancesConfig chooses the ZITADEL instances to count.
type InstancesConfig struct {
	// Hosts are instance domains, each sent as x-zitadel-instance-host.
	Hosts []string `mapstructure:"hosts"`
	// Discover lists every instance through the system API.
	Discover bool `mapstructure:"discover"`

	_ struct{}
}

// RetryConfig bounds the retries of throttled or unavailable calls. Retries
// never outlast the scrape's deadline.
type RetryConfig struct {
	MaxRetries      int           `mapstructure:"max_retries"`
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`

	_ struct{}
}

// NewDefaultConfig returns the defaults of the `api:` block.
func NewDefaultConfig() Config {
	return Config{
		ClientConfig:    configgrpc.NewDefaultClientConfig(),
		PerOrganization: true,
		PageSize:        defaultPageSize,
		MaxConcurrency:  defaultMaxConcurrency,
		RequestTimeout:  defaultRequestTimeout,
		Retry: RetryConfig{
			MaxRetries:      defaultMaxRetries,
			InitialInterval: defaultInitialBackoff,
			MaxInterval:     defaultMaxBackoff,
		},
		FullScrapeInterval: defaultFullScrape,
		Activity:           newDefaultDeprecatedActivityConfig(),
	}
}

// Validate checks the values that are set. It runs whichever source is
// selected, so it never demands a key; Required does.
func (c *Config) Validate() error {
	var errs []error
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("token and token_file: set only one of them"))
	}
	if (c.SystemUser.UserID == "") != (c.SystemUser.KeyFile == "") {
		errs = append(errs, errors.New("system_user: user_id and key_file go together"))
	}
	if id := c.SystemUser.UserID; id != strings.ToLower(id) {
		errs = append(errs, fmt.Errorf("system_user::user_id: %q must be lowercase, as ZITADEL stores system users", id))
	}
	if err := validateURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("issuer: %w", err))
	}
	if err := validateURL(c.TokenURL); err != nil {
		errs = append(errs, fmt.Errorf("token_url: %w", err))
	}
	if c.Instances.Discover && len(c.Instances.Hosts) > 0 {
		errs = append(errs, errors.New("instances: set hosts or discover, not both"))
	}
	errs = append(errs, configcheck.List("instances::hosts", "host", c.Instances.Hosts, func(h string) string {
		if strings.Contains(h, "/") {
			return "must be a host name, not a URL"
		}
		return ""
	})...)
	if c.PageSize < 1 || c.PageSize > maxPageSize {
		errs = append(errs, fmt.Errorf("page_size: %d is outside 1..%d (ZITADEL's largest page)", c.PageSize, maxPageSize))
	}
	if c.MaxConcurrency < 1 {
		errs = append(errs, fmt.Errorf("max_concurrency: %d must be at least 1", c.MaxConcurrency))
	}
	if c.RequestsPerSecond < 0 {
		errs = append(errs, fmt.Errorf("requests_per_second: %g must not be negative (0 means no cap)", c.RequestsPerSecond))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request_timeout: %s must be positive", c.RequestTimeout))
	}
	if c.Retry.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("retry::max_retries: %d must not be negative", c.Retry.MaxRetries))
	}
	if c.Retry.InitialInterval <= 0 || c.Retry.MaxInterval < c.Retry.InitialInterval {
		errs = append(errs, fmt.Errorf("retry: initial_interval (%s) must be positive and at most max_interval (%s)",
			c.Retry.InitialInterval, c.Retry.MaxInterval))
	}
	if c.FullScrapeInterval <= 0 {
		errs = append(errs, fmt.Errorf("full_scrape_interval: %s must be positive", c.FullScrapeInterval))
	}
	switch {
	case c.AuditLogRetention < 0:
		errs = append(errs, fmt.Errorf("audit_log_retention: %s must not be negative (0: ZITADEL keeps every event)", c.AuditLogRetention))
	case c.Incremental && c.AuditLogRetention > 0 && c.FullScrapeInterval > c.AuditLogRetention/2:
		errs = append(errs, fmt.Errorf("full_scrape_interval: %s is more than half of audit_log_retention (%s): ZITADEL hides older events "+
			"without an error, so an incremental scrape could miss changes; set full_scrape_interval to at most %s",
			c.FullScrapeInterval, c.AuditLogRetention, c.AuditLogRetention/2))
	}
	errs = append(errs, c.Activity.validate()...)
	return errors.Join(errs...)
}

// Required reports the keys that must be set when this source is selected.
func (c *Config) Required() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: required, the ZITADEL gRPC address such as zitadel.example.com:443"))
	}
	kinds := c.credentialKinds()
	switch {
	case len(kinds) == 0:
		errs = append(errs, errors.New("credentials: set one of token, token_file, key_file, system_user or auth"))
	case len(kinds) > 1:
		errs = append(errs, fmt.Errorf("credentials: %s are set; set exactly one", strings.Join(kinds, ", ")))
	}
	if c.Instances.Discover && c.SystemUser.UserID == "" && !c.Auth.HasValue() {
		errs = append(errs, errors.New("instances::discover: needs system_user, since only system API users may list instances"))
	}
	return errors.Join(errs...)
}

func (c *Config) credentialKinds() []string {
	var kinds []string
	if c.Token != "" || c.TokenFile != "" {
		kinds = append(kinds, "token")
	}
	if c.KeyFile != "" {
		kinds = append(kinds, "key_file")
	}
	if c.SystemUser.UserID != "" || c.SystemUser.KeyFile != "" {
		kinds = append(kinds, "system_user")
	}
	if c.Auth.HasValue() {
		kinds = append(kinds, "auth")
	}
	return kinds
}

func validateURL(raw string) error {
	if raw != "" && !configcheck.IsHTTPURL(raw) {
		return fmt.Errorf("%q must be an absolute http or https URL", raw)
	}
	return nil
}
