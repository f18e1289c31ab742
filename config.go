package zitadeltelemetry

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
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

// Exporter protocols.
const (
	ProtocolHTTP    = "http"
	ProtocolConnect = "connect"
	ProtocolGRPC    = "grpc"
)

// ExporterConfig configures the `zitadeltelemetry` exporter.
//
// The endpoint is a top-level key for every protocol; the client settings
// (TLS, headers, auth, compression, keepalive) live in the nested `http:` or
// `grpc:` block of the chosen protocol. Keeping the HTTP client nested also
// keeps its `timeout` (one HTTP request) apart from the top-level `timeout`
// (one whole report).
type ExporterConfig struct {
	// Endpoint is where reports go: a base URL for `http` (ZITADEL's default is
	// https://zitadel.com/api/ping) and `connect`, host:port for `grpc`.
	Endpoint string `mapstructure:"endpoint"`
	// Protocol is `http` (ZITADEL's own wire, default), `connect` or `grpc`.
	Protocol string `mapstructure:"protocol"`
	// SystemID is used for metrics without a zitadel.system.id attribute.
	SystemID string `mapstructure:"system_id"`
	// Version is used for metrics without a zitadel.version attribute.
	Version string `mapstructure:"version"`
	// BulkSize is the number of rows per ReportResourceCounts call.
	BulkSize int `mapstructure:"bulk_size"`
	// SendDomains sends the instances' domains; false drops them before
	// anything leaves the process.
	SendDomains bool `mapstructure:"send_domains"`

	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	RetryConfig                  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig                  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// HTTP is the client of the `http` and `connect` protocols; its endpoint
	// key is not used.
	HTTP confighttp.ClientConfig `mapstructure:"http"`
	// GRPC is the client of the `grpc` protocol; its endpoint key is not used.
	GRPC configgrpc.ClientConfig `mapstructure:"grpc"`

	ScheduleConfig `mapstructure:",squash"`

	_ struct{}
}

// Validate checks the exporter's own keys; confmap.Validate checks the nested
// blocks (timeout, retry_on_failure, sending_queue, http, grpc) on its own.
func (c *ExporterConfig) Validate() error {
	var errs []error
	switch c.Protocol {
	case ProtocolHTTP, ProtocolConnect:
		if err := validateHTTPEndpoint(c.Endpoint, c.Protocol); err != nil {
			errs = append(errs, err)
		}
	case ProtocolGRPC:
		if err := validateGRPCEndpoint(c.Endpoint); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("protocol: %q is not a protocol; use %q, %q or %q",
			c.Protocol, ProtocolHTTP, ProtocolConnect, ProtocolGRPC))
	}
	if c.BulkSize < 1 || c.BulkSize > maxBulkSize {
		errs = append(errs, fmt.Errorf("bulk_size: %d is out of range; use 1 to %d, the most rows that surely fit one 4 MiB message",
			c.BulkSize, maxBulkSize))
	}
	if len(c.SystemID) > maxSystemIDBytes || !utf8.ValidString(c.SystemID) {
		errs = append(errs, fmt.Errorf("system_id: must be valid UTF-8 of at most %d bytes", maxSystemIDBytes))
	}
	if !utf8.ValidString(c.Version) {
		errs = append(errs, errors.New("version: must be valid UTF-8"))
	}
	if c.HTTP.Endpoint != "" {
		errs = append(errs, errors.New("http::endpoint: not used; set the top-level endpoint"))
	}
	if c.GRPC.Endpoint != "" {
		errs = append(errs, errors.New("grpc::endpoint: not used; set the top-level endpoint"))
	}
	errs = append(errs, c.ScheduleConfig.validate(c.QueueConfig)...)
	return errors.Join(errs...)
}

func validateHTTPEndpoint(endpoint, protocol string) error {
	if endpoint == "" {
		return fmt.Errorf("endpoint: required; protocol %q needs a base URL such as https://zitadel.com/api/ping", protocol)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint: %q is not an http(s) URL; protocol %q needs a base URL such as https://zitadel.com/api/ping",
			endpoint, protocol)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint: %q has a query or fragment; the method paths are appended to it", endpoint)
	}
	return nil
}

func validateGRPCEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New(`endpoint: required; protocol "grpc" needs host:port`)
	}
	hostPort := strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	if strings.Contains(hostPort, "://") {
		return nil // a gRPC resolver target such as dns:///host:port
	}
	if _, port, err := net.SplitHostPort(hostPort); err != nil || port == "" {
		return fmt.Errorf(`endpoint: %q is not host:port, which protocol "grpc" needs`, endpoint)
	}
	return nil
}
