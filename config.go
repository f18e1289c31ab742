package zitadeltelemetry

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/confignumbers"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/schedule"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

// Receiver sources.
const (
	SourceAPI      = "api"
	SourceDatabase = "database"
)

// minCollectionInterval is the shortest time between scrapes. An api scrape
// of one instance with the default resources is about twenty calls plus
// thirteen per organization; at one a minute, a one-organization instance
// costs ZITADEL a call every two seconds, far below ZITADEL Cloud's limit of
// about 50 calls a second.
// Counts are capacity figures that change over hours, and without an exporter
// schedule every scrape is also a telemetry report, so nothing is gained by
// scraping more often.
const minCollectionInterval = time.Minute

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

	// AuditLog configures ZITADEL's audit trail, read when the receiver sits
	// in a logs pipeline.
	AuditLog audittrail.Config `mapstructure:"audit_log"`
	// Activity counts logins, checks, lockouts and active users from
	// ZITADEL's events, and reports its milestones, on either source.
	Activity activity.Config `mapstructure:"activity"`
	// deprecatedAPIActivity is set when the activity came from api::activity.
	deprecatedAPIActivity bool

	// contract.MetricsBuilderConfig holds the `metrics:` and `resource_attributes:`
	// switches.
	contract.MetricsBuilderConfig `mapstructure:",squash"`

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
	if c.CollectionInterval < minCollectionInterval {
		errs = append(errs, fmt.Errorf("collection_interval: %s is below the minimum of %s (a number without a unit is nanoseconds; write 5m, 1h)",
			c.CollectionInterval, minCollectionInterval))
	}
	errs = append(errs, configcheck.List("resources", "resource name", c.Resources, func(r string) string {
		if !slices.Contains(model.Resources, r) {
			return "is not a resource name; known names: " + strings.Join(model.Resources, ", ")
		}
		return ""
	})...)
	errs = append(errs, validateReportIdentity(c.SystemID, c.Version)...)
	errs = append(errs, c.Activity.Check("activity")...)
	if c.Source == SourceAPI {
		errs = append(errs, c.API.CheckActivity(&c.Activity)...)
	}
	return errors.Join(errs...)
}

// validateReportIdentity holds a configured system_id and version to what
// the exporter can send, so that neither component accepts a value the other
// would refuse.
func validateReportIdentity(systemID, version string) []error {
	var errs []error
	if systemID != "" {
		if p := fieldshape.CheckID(systemID, fieldshape.MaxSystemIDBytes); p != "" {
			errs = append(errs, fmt.Errorf("system_id: %s", p))
		}
	}
	if version != "" {
		if p := fieldshape.CheckVersion(version); p != "" {
			errs = append(errs, fmt.Errorf("version: %s", p))
		}
	}
	return errs
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
	// PathSecret, for `http` and `connect`, is appended to the endpoint's
	// path: the path secret of a `zitadeltelemetry` receiver, kept apart from
	// the endpoint so that it is a secret in configuration and logs too.
	PathSecret configopaque.String `mapstructure:"path_secret"`
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
	// SendResources names the resources this collector adds beyond ZITADEL's
	// own (model.CollectorOnly) that go into the report anyway; the others
	// are left out, so ZITADEL's endpoint gets only names it knows.
	SendResources []string `mapstructure:"send_resources"`
	// IDHashKey, when set, replaces system, instance and organization ids
	// with an HMAC of them under this key before a report leaves the process.
	IDHashKey configopaque.String `mapstructure:"id_hash_key"`

	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	RetryConfig                  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig                  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// HTTP is the client of the `http` and `connect` protocols; its endpoint
	// key is not used.
	HTTP confighttp.ClientConfig `mapstructure:"http"`
	// GRPC is the client of the `grpc` protocol; its endpoint key is not used.
	GRPC configgrpc.ClientConfig `mapstructure:"grpc"`

	schedule.Config `mapstructure:",squash"`

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
		if err := fieldshape.CheckPathSecret(string(c.PathSecret)); err != nil {
			errs = append(errs, fmt.Errorf("path_secret: %w", err))
		}
	case ProtocolGRPC:
		if err := validateGRPCEndpoint(c.Endpoint); err != nil {
			errs = append(errs, err)
		}
		if c.PathSecret != "" {
			errs = append(errs, errors.New(`path_secret: not used with protocol "grpc", which has no path; use grpc::headers or auth`))
		}
	default:
		errs = append(errs, fmt.Errorf("protocol: %q is not a protocol; use %q, %q or %q",
			c.Protocol, ProtocolHTTP, ProtocolConnect, ProtocolGRPC))
	}
	if c.BulkSize < 1 || c.BulkSize > fieldshape.MaxBulkSize {
		errs = append(errs, fmt.Errorf("bulk_size: %d is out of range; use 1 to %d, the most rows that surely fit one 4 MiB message",
			c.BulkSize, fieldshape.MaxBulkSize))
	}
	errs = append(errs, validateReportIdentity(c.SystemID, c.Version)...)
	errs = append(errs, report.ValidateSendResources(c.SendResources)...)
	errs = append(errs, idhash.ValidateKey(c.IDHashKey)...)
	if c.HTTP.Endpoint != "" {
		errs = append(errs, errors.New("http::endpoint: not used; set the top-level endpoint"))
	}
	if c.GRPC.Endpoint != "" {
		errs = append(errs, errors.New("grpc::endpoint: not used; set the top-level endpoint"))
	}
	errs = append(errs, c.Config.Validate(c.QueueConfig)...)
	return errors.Join(errs...)
}

// endpointWithSecret is the base URL of the `http` and `connect` calls.
func (c *ExporterConfig) endpointWithSecret() string {
	if c.PathSecret == "" {
		return c.Endpoint
	}
	return strings.TrimSuffix(c.Endpoint, "/") + "/" + string(c.PathSecret)
}

func validateHTTPEndpoint(endpoint, protocol string) error {
	if endpoint == "" {
		return fmt.Errorf("endpoint: required; protocol %q needs a base URL such as https://zitadel.com/api/ping", protocol)
	}
	if !configcheck.IsHTTPURL(endpoint) {
		return fmt.Errorf("endpoint: %q is not an http(s) URL; protocol %q needs a base URL such as https://zitadel.com/api/ping",
			endpoint, protocol)
	}
	if strings.ContainsAny(endpoint, "?#") {
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
	if strings.Contains(hostPort, "/") {
		return fmt.Errorf(`endpoint: %q has a path; protocol "grpc" needs host:port only, such as telemetry.example.com:443 (gRPC fixes the method paths)`, endpoint)
	}
	_, port, err := net.SplitHostPort(hostPort)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf(`endpoint: %q is not host:port, which protocol "grpc" needs, such as telemetry.example.com:443`, endpoint)
	}
	return nil
}

// The collector decodes 1.5 as 1 and 60 as 60ns without a word: every
// integer, duration and secret key of each component, its collector blocks included, is checked
// on the raw configuration first.
var (
	receiverRawKeys = confignumbers.RawKeysOf(reflect.TypeFor[ReceiverConfig]())
	exporterRawKeys = confignumbers.RawKeysOf(reflect.TypeFor[ExporterConfig]())
)

// Unmarshal decodes the receiver's configuration, refusing first what the
// collector would decode without a word: a fraction at an integer key, a
// number without a unit or below a millisecond at a duration key, a secret
// that is present but empty.
func (c *ReceiverConfig) Unmarshal(conf *confmap.Conf) error {
	if err := receiverRawKeys.Check(conf); err != nil {
		return err
	}
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	// api::activity is read for one more release, as the top-level block.
	if conf.IsSet("api::activity") {
		if conf.IsSet("activity") {
			return errors.New("api::activity: replaced by the top-level activity block, which is set too; move its keys there")
		}
		c.Activity, c.deprecatedAPIActivity = c.API.Activity.Block(), true
	}
	return nil
}

// deprecationWarning names the new key of a deprecated one in use.
func (c *ReceiverConfig) deprecationWarning() string {
	if !c.deprecatedAPIActivity {
		return ""
	}
	return "api::activity is deprecated and will be removed in the next release: move its keys to the receiver's top-level " +
		"activity block, which serves both sources (max_pages_per_scrape: n becomes max_events_per_scrape: n000)"
}

// Unmarshal decodes the exporter's configuration. Besides what the receiver's
// Unmarshal refuses (fractions at integer keys, numbers without a unit or
// below a millisecond at duration keys, empty secrets), it refuses the client
// block of the protocol not in use: its settings (a credential header, say)
// would silently never apply.
func (c *ExporterConfig) Unmarshal(conf *confmap.Conf) error {
	if err := exporterRawKeys.Check(conf); err != nil {
		return err
	}
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	switch {
	case c.Protocol == ProtocolGRPC && conf.IsSet("http"):
		return errors.New(`http: configures the client of protocols "http" and "connect", but protocol is "grpc": move its settings to the grpc block`)
	case c.Protocol != ProtocolGRPC && conf.IsSet("grpc"):
		return fmt.Errorf(`grpc: configures the client of protocol "grpc", but protocol is %q: move its settings to the http block, or set protocol: grpc`, c.Protocol)
	}
	return nil
}
