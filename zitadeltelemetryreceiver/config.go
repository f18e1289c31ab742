package zitadeltelemetryreceiver

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/confignumbers"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
)

// Config configures the `zitadeltelemetry` receiver: the
// TelemetryService endpoint that ZITADEL's own service ping, the ZITADEL SDKs
// or another collector's `zitadeltelemetry` exporter report to.
type Config struct {
	// HTTP serves ZITADEL's wire ({path}/instances, {path}/resource_counts)
	// and the Connect paths; on by default, `enabled: false` turns it off.
	HTTP configoptional.Optional[HTTPConfig] `mapstructure:"http"`
	// GRPC serves the TelemetryService over gRPC; on when the key is present.
	GRPC configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"grpc"`
	// ReportIDs configures the report ids the receiver issues.
	ReportIDs ReportIDConfig `mapstructure:"report_ids"`
	// MaxRowsPerPage refuses a ReportResourceCounts call with more rows.
	MaxRowsPerPage int `mapstructure:"max_rows_per_page"`
	// UpdatedAtAttribute adds each row's updated_at as the data point
	// attribute zitadel.count.updated_at, as the database source does.
	UpdatedAtAttribute bool `mapstructure:"updated_at_attribute"`
	// DropDomains leaves the instances' domains out of what the receiver
	// emits: nothing after it in the pipeline sees them.
	DropDomains bool `mapstructure:"drop_domains"`
	// IDHashKey, when set, replaces system, instance and organization ids
	// with base64url(HMAC-SHA256(key, id)) before anything is emitted, as
	// the exporter's id_hash_key does. At least 32 bytes.
	IDHashKey configopaque.String `mapstructure:"id_hash_key"`
	// MetricsBuilderConfig holds the `metrics:` and
	// `resource_attributes:` switches.
	MetricsBuilderConfig `mapstructure:",squash"`

	_ struct{}
}

// HTTPConfig is the HTTP server: the Collector's standard settings
// plus where the service lives.
type HTTPConfig struct {
	confighttp.ServerConfig `mapstructure:",squash"`
	// Path is the base path; ZITADEL's ServicePing.Endpoint is
	// http(s)://host:port{path}[/{path_secret}].
	Path string `mapstructure:"path"`
	// PathSecret, when set, must follow the path in every call's URL; a call
	// without it gets 404. ZITADEL's client has no other way to authenticate.
	PathSecret configopaque.String `mapstructure:"path_secret"`

	_ struct{}
}

// ReportIDConfig configures the self-verifying report ids.
type ReportIDConfig struct {
	// Key signs the report ids. Replicas behind one load balancer share it,
	// so that any replica accepts the pages of a report another one began.
	// Without it, each process draws a random key at start.
	Key configopaque.String `mapstructure:"key"`
	// TTL is how long a report id is accepted after it was issued.
	TTL time.Duration `mapstructure:"ttl"`

	_ struct{}
}

const (
	minReportKeyBytes  = 32
	minPathSecretBytes = 16
	maxPathSecretBytes = 256
	minReportIDTTL     = time.Minute
)

// Unmarshal decodes the receiver's configuration, refusing fractional
// numbers for integer keys.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if err := confignumbers.CheckWholeNumbers(conf, wholeNumberKeys); err != nil {
		return err
	}
	return conf.Unmarshal(c)
}

// Validate checks the receiver's own keys; confmap.Validate checks the
// nested server blocks on its own.
func (c *Config) Validate() error {
	var errs []error
	if !c.HTTP.HasValue() && !c.GRPC.HasValue() {
		errs = append(errs, errors.New("http, grpc: both are off; serve at least one"))
	}
	if h := c.HTTP.Get(); h != nil {
		if err := validateServicePath(h.Path); err != nil {
			errs = append(errs, fmt.Errorf("http::path: %w", err))
		}
		if err := validatePathSecret(string(h.PathSecret)); err != nil {
			errs = append(errs, fmt.Errorf("http::path_secret: %w", err))
		}
	}
	if n := len(c.ReportIDs.Key); n > 0 && n < minReportKeyBytes {
		errs = append(errs, fmt.Errorf("report_ids::key: %d bytes is too short to sign with; use at least %d random bytes, e.g. `openssl rand -base64 48`",
			n, minReportKeyBytes))
	}
	if c.ReportIDs.TTL < minReportIDTTL {
		errs = append(errs, fmt.Errorf("report_ids::ttl: %s is shorter than %s; a report takes longer than that to arrive",
			c.ReportIDs.TTL, minReportIDTTL))
	}
	errs = append(errs, idhash.ValidateKey(c.IDHashKey)...)
	if c.MaxRowsPerPage < 1 {
		errs = append(errs, fmt.Errorf("max_rows_per_page: %d; use at least 1 (ZITADEL sends up to its BulkSize, 10000 by default)", c.MaxRowsPerPage))
	}
	return errors.Join(errs...)
}

func validateServicePath(p string) error {
	switch {
	case p == "" || p == "/":
		return nil
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q does not start with /", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("%q ends with /; ZITADEL appends /instances to its endpoint itself", p)
	case strings.ContainsAny(p, "?#%") || strings.Contains(p, "//"):
		return fmt.Errorf("%q is not a plain path: no ?, #, %%-escapes or empty segments", p)
	}
	return nil
}

// validatePathSecret keeps the secret one URL path segment that needs no
// escaping and is long enough not to be guessed. The value is never printed.
func validatePathSecret(s string) error {
	if s == "" {
		return nil
	}
	if len(s) < minPathSecretBytes || len(s) > maxPathSecretBytes {
		return fmt.Errorf("has %d characters; use %d to %d, e.g. `openssl rand -hex 24`", len(s), minPathSecretBytes, maxPathSecretBytes)
	}
	for _, r := range s {
		if !isUnreservedURLChar(r) {
			return errors.New("has a character that is not a letter, digit, '-', '_', '.' or '~'; it must be one URL path segment as it is")
		}
	}
	return nil
}

func isUnreservedURLChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '~'
}

// wholeNumberKeys are the integer keys, checked on the raw configuration:
// the collector decodes 1.5 into an integer as 1 without a word.
var wholeNumberKeys = confignumbers.IntegerKeys(reflect.TypeFor[Config]())
