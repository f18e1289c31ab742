package zitadeldb

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
)

// TLS modes, libpq's sslmode values.
const (
	TLSDisable    = "disable"
	TLSAllow      = "allow"
	TLSPrefer     = "prefer"
	TLSRequire    = "require"
	TLSVerifyCA   = "verify-ca"
	TLSVerifyFull = "verify-full"
)

var tlsModes = []string{TLSDisable, TLSAllow, TLSPrefer, TLSRequire, TLSVerifyCA, TLSVerifyFull}

const (
	defaultMaxConns    = 2
	defaultTimeout     = 30 * time.Second
	defaultPageSize    = 10000 // ZITADEL's ServicePing.Telemetry.ResourceCount.BulkSize
	defaultEventsTable = "eventstore.events2"
	// defaultDatabase is ZITADEL's own default database name; it applies with
	// endpoint only, a dsn names its database itself.
	defaultDatabase = "zitadel"
)

// Config is the `database:` block of the zitadel receiver.
type Config struct {
	// Endpoint is the PostgreSQL server as host:port. Use DSN for anything
	// libpq can express and these keys cannot (several hosts, sockets, options).
	Endpoint string `mapstructure:"endpoint"`
	// DSN is a libpq connection string, URL or key=value. It may hold a password.
	// The keys below override what it says when they are set.
	DSN configopaque.String `mapstructure:"dsn"`
	// Username is the role to log in as; required with Endpoint.
	Username string `mapstructure:"username"`
	// Password of Username; PasswordFile is read instead when set.
	Password configopaque.String `mapstructure:"password"`
	// PasswordFile holds the password; it is read again for every new
	// connection, so a rotated secret is picked up without a restart.
	PasswordFile string `mapstructure:"password_file"`
	// Database is ZITADEL's database; default: the dsn's, else "zitadel".
	Database string `mapstructure:"database"`
	// TLS configures the connection's encryption.
	TLS TLSConfig `mapstructure:"tls"`
	// MaxConns bounds the connections the receiver opens.
	MaxConns int32 `mapstructure:"max_conns"`
	// Timeout bounds each query; 0 leaves only the scrape's own timeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// PageSize is the number of projections.resource_counts rows read per query.
	PageSize int `mapstructure:"page_size"`
	// Instances restricts the scrape to these instance ids; empty reads every instance.
	Instances []string `mapstructure:"instances"`
	// EventsTable is the relation the events are read from (the system id,
	// the version, the activity, the audit trail): eventstore.events2 or a
	// narrower view over it. Empty reads no events.
	EventsTable string `mapstructure:"events_table"`
	// UpdatedAtAttribute adds each count's updated_at as the data point
	// attribute zitadel.count.updated_at.
	UpdatedAtAttribute bool `mapstructure:"updated_at_attribute"`

	_ struct{}
}

// TLSConfig is the `tls:` block of the `database:` block; the keys map to
// libpq's sslmode, sslrootcert, sslcert and sslkey.
type TLSConfig struct {
	// Mode is libpq's sslmode; empty keeps the dsn's, else libpq's default `prefer`.
	Mode string `mapstructure:"mode"`
	// CAFile verifies the server's certificate (verify-ca, verify-full).
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are a client certificate, for cert authentication.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`

	_ struct{}
}

// NewDefaultConfig returns the defaults of the `database:` block.
func NewDefaultConfig() Config {
	return Config{
		MaxConns:    defaultMaxConns,
		Timeout:     defaultTimeout,
		PageSize:    defaultPageSize,
		EventsTable: defaultEventsTable,
	}
}

// Required reports the keys that must be set when this source is selected.
func (c *Config) Required() error {
	switch {
	case c.DSN == "" && c.Endpoint == "":
		return errors.New("set dsn or endpoint to reach ZITADEL's PostgreSQL")
	case c.Endpoint != "" && c.Username == "":
		return errors.New("username: required with endpoint")
	}
	return nil
}

// Validate checks the keys that are set; the collector calls it on this block
// whichever source is selected, so an absent key is never an error here.
func (c *Config) Validate() error {
	var errs []error
	if c.DSN != "" && c.Endpoint != "" {
		errs = append(errs, errors.New("dsn and endpoint: set one of them, not both"))
	}
	if c.Endpoint != "" {
		if err := validateEndpoint(c.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
		}
	}
	if (c.DSN != "") != (c.Endpoint != "") && (c.TLS.Mode == "" || isTLSMode(c.TLS.Mode)) {
		// The files the tls block names are read at start, not here: a
		// configuration may be validated where they do not exist.
		var mode [][2]string
		if c.TLS.Mode != "" {
			mode = [][2]string{{"sslmode", c.TLS.Mode}}
		}
		if _, err := c.parseConnString(mode); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Password != "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("password and password_file: set one of them, not both"))
	}
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("max_conns: must be at least 1, got %d", c.MaxConns))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: per-query timeout must not be negative, got %s", c.Timeout))
	}
	if c.PageSize < 1 {
		errs = append(errs, fmt.Errorf("page_size: must be at least 1, got %d", c.PageSize))
	}
	errs = append(errs, configcheck.List("instances", "instance id", c.Instances, nil)...)
	if c.EventsTable != "" {
		if _, err := parseRelation(c.EventsTable); err != nil {
			errs = append(errs, fmt.Errorf("events_table: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the `tls:` block.
func (t *TLSConfig) Validate() error {
	var errs []error
	if t.Mode != "" && !isTLSMode(t.Mode) {
		errs = append(errs, fmt.Errorf("mode: %q is not a mode; use one of %s", t.Mode, strings.Join(tlsModes, ", ")))
	}
	if t.Mode == TLSDisable && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "") {
		errs = append(errs, errors.New("mode: disable turns TLS off, so ca_file, cert_file and key_file would be ignored"))
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("cert_file and key_file: set both or neither"))
	}
	return errors.Join(errs...)
}

func isTLSMode(m string) bool { return slices.Contains(tlsModes, m) }

func validateEndpoint(endpoint string) error {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", endpoint, err)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", endpoint)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be a number from 1 to 65535", endpoint)
	}
	return nil
}

// parseRelation splits "schema.name" (or "name") into identifier parts.
func parseRelation(s string) ([]string, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return nil, fmt.Errorf("%q: want name or schema.name", s)
	}
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%q: want name or schema.name", s)
		}
	}
	return parts, nil
}
