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

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/confignumbers"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
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
	GRPC configoptional.Optional[GRPCConfig] `mapstructure:"grpc"`
	// ReportIDs configures the report ids the receiver issues.
	ReportIDs ReportIDConfig `mapstructure:"report_ids"`
	// MaxRowsPerPage refuses a ReportResourceCounts call with more rows.
	MaxRowsPerPage int `mapstructure:"max_rows_per_page"`
	// MaxInstancesPerCall refuses a ReportBaseInformation call naming more
	// instances, counted before the body is decoded: each instance becomes a
	// resource of its own, about a kilobyte whatever the few bytes it took.
	MaxInstancesPerCall int `mapstructure:"max_instances_per_call"`
	// MaxBytesInFlight bounds the bytes all calls in flight on every wire
	// hold together: each body as it arrives (a gRPC message, whose length
	// is known only once it was read, the most max_recv_msg_size_mib allows
	// until then, these bookings together at most half of it), then what
	// its rows or instances will cost decoded and as metrics, counted before
	// decoding. A call beyond it is refused at once as RESOURCE_EXHAUSTED
	// (HTTP 429) with a retry delay.
	MaxBytesInFlight int64 `mapstructure:"max_bytes_in_flight"`
	// MaxHeaderBytes bounds a call's headers: an HTTP request's (Go's
	// default is 1 MiB, about 2.4 MB held while it arrives) and gRPC's
	// header list (metadata).
	MaxHeaderBytes int `mapstructure:"max_header_bytes"`
	// MaxConnections bounds the connections the HTTP and gRPC servers hold
	// open together; the next one is accepted once one closes. With both
	// on, each holds at most three quarters of them (one less, below 8).
	MaxConnections int `mapstructure:"max_connections"`
	// Systems, when not empty, are the only system ids taken; a call from any
	// other is refused having read its system id alone.
	Systems []string `mapstructure:"systems"`
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

// GRPCConfig is the gRPC server: the Collector's standard settings plus
// how long a call's message may take to arrive.
type GRPCConfig struct {
	configgrpc.ServerConfig `mapstructure:",squash"`
	// ReadTimeout is how long a call's message may take to arrive once the
	// call began. The call books the largest message it may send before
	// the message arrives; a stream that sends none is ended then and its
	// booking given back.
	ReadTimeout time.Duration `mapstructure:"read_timeout"`

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
	// maxMaxRowsPerPage keeps a page's metrics (about 340 bytes a row) within
	// tens of megabytes: 100000 rows is ten of ZITADEL's pages.
	maxMaxRowsPerPage = 100000
	// maxMaxInstancesPerCall bounds a base information's metrics to about
	// 100 MB.
	maxMaxInstancesPerCall = 100000
	// maxDomainsPerInstance bounds each instance's domains (ZITADEL's
	// generated one and the custom ones, a handful in practice), as each
	// becomes a value of the zitadel.instance.domains attribute.
	maxDomainsPerInstance = 64

	// maxMaxRequestBodySize: the receiver holds a whole body and what it
	// decodes to, a few times the body, in memory at once. 64 MiB takes a
	// page of maxMaxRowsPerPage rows, 25 times ZITADEL's own (2.4 MiB).
	maxMaxRequestBodySize = 64 << 20
	// maxGRPCRecvMsgSizeMiB bounds grpc::max_recv_msg_size_mib alike.
	maxGRPCRecvMsgSizeMiB = 64

	// A call's headers: ZITADEL's client sends a few hundred bytes, the
	// SDKs and exporters a bearer token of a few kilobytes more.
	minMaxHeaderBytes   = 4 << 10
	maxMaxHeaderBytes   = 1 << 20
	maxMaxConnections   = 100000
	maxMaxBytesInFlight = 4 << 30

	minReportKeyBytes = 32
	minReportIDTTL    = time.Minute
)

// Unmarshal decodes the receiver's configuration, refusing first what the
// collector would decode without a word: a fraction at an integer key, a
// number without a unit or below a millisecond at a duration key, a secret
// that is present but empty.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if err := rawKeys.Check(conf); err != nil {
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
		if err := fieldshape.CheckPathSecret(string(h.PathSecret)); err != nil {
			errs = append(errs, fmt.Errorf("http::path_secret: %w", err))
		}
		if n := h.MaxRequestBodySize; n < 0 || n > maxMaxRequestBodySize {
			errs = append(errs, fmt.Errorf("http::max_request_body_size: %d is out of range; use 0 (20 MiB) up to %d (64 MiB): "+
				"a body is held whole in memory with what it decodes to, and ZITADEL's pages are about 2.4 MiB", n, maxMaxRequestBodySize))
		}
	}
	if g := c.GRPC.Get(); g != nil {
		if n := g.MaxRecvMsgSizeMiB; n < 0 || n > maxGRPCRecvMsgSizeMiB {
			errs = append(errs, fmt.Errorf("grpc::max_recv_msg_size_mib: %d is out of range; use 0 (4 MiB) up to %d: "+
				"a message is held whole in memory with what it decodes to", n, maxGRPCRecvMsgSizeMiB))
		}
		if g.ReadTimeout <= 0 {
			errs = append(errs, fmt.Errorf("grpc::read_timeout: %s is not positive; a call books the largest message it may send "+
				"before the message arrives, and one that sends none would keep it", g.ReadTimeout))
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
	if c.MaxRowsPerPage < 1 || c.MaxRowsPerPage > maxMaxRowsPerPage {
		errs = append(errs, fmt.Errorf("max_rows_per_page: %d is out of range; use 1 to %d: ZITADEL sends up to its BulkSize, 10000 by default, "+
			"and a page's metrics are held in memory whole, about 340 bytes a row", c.MaxRowsPerPage, maxMaxRowsPerPage))
	}
	if c.MaxInstancesPerCall < 1 || c.MaxInstancesPerCall > maxMaxInstancesPerCall {
		errs = append(errs, fmt.Errorf("max_instances_per_call: %d is out of range; use 1 to %d: "+
			"each instance becomes a resource of its own, about a kilobyte held in memory", c.MaxInstancesPerCall, maxMaxInstancesPerCall))
	}
	errs = append(errs, c.validateServerBounds()...)
	errs = append(errs, configcheck.List("systems", "system id", c.Systems, func(id string) string { return fieldshape.CheckID(id, fieldshape.MaxSystemIDBytes) })...)
	return errors.Join(errs...)
}

// validateServerBounds checks what the servers hold at once: a call as
// large as a server takes must fit max_bytes_in_flight, with what it
// decodes to.
func (c *Config) validateServerBounds() []error {
	var errs []error
	if c.MaxHeaderBytes < minMaxHeaderBytes || c.MaxHeaderBytes > maxMaxHeaderBytes {
		errs = append(errs, fmt.Errorf("max_header_bytes: %d is out of range; use %d to %d: ZITADEL sends a few hundred bytes of headers, "+
			"the SDKs a bearer token more", c.MaxHeaderBytes, minMaxHeaderBytes, maxMaxHeaderBytes))
	}
	if c.MaxConnections < 1 || c.MaxConnections > maxMaxConnections {
		errs = append(errs, fmt.Errorf("max_connections: %d is out of range; use 1 to %d", c.MaxConnections, maxMaxConnections))
	}
	largest := c.largestCall()
	if c.MaxBytesInFlight < 2*largest || c.MaxBytesInFlight > maxMaxBytesInFlight {
		errs = append(errs, fmt.Errorf("max_bytes_in_flight: %d is out of range; use %d (twice the largest body or message a server takes, "+
			"as a call holds what it decodes to besides) to %d", c.MaxBytesInFlight, 2*largest, int64(maxMaxBytesInFlight)))
	}
	return errs
}

// largestCall is the largest body or message a server takes.
func (c *Config) largestCall() int64 {
	var largest int64
	if h := c.HTTP.Get(); h != nil {
		largest = httpMaxBodyBytes(h)
	}
	if g := c.GRPC.Get(); g != nil {
		largest = max(largest, grpcMaxMessageBytes(g))
	}
	return largest
}

// grpcMaxMessageBytes is the largest message the gRPC server takes:
// max_recv_msg_size_mib, or grpc-go's 4 MiB.
// httpMaxBodyBytes is the body limit the HTTP server and handler enforce:
// confighttp's default for 0.
func httpMaxBodyBytes(h *HTTPConfig) int64 {
	if h.MaxRequestBodySize > 0 {
		return h.MaxRequestBodySize
	}
	return defaultMaxRequestBodySize
}

func grpcMaxMessageBytes(g *GRPCConfig) int64 {
	if g.MaxRecvMsgSizeMiB > 0 {
		return int64(g.MaxRecvMsgSizeMiB) << 20
	}
	return defaultGRPCMaxMessageBytes
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

// rawKeys are the integer, duration and secret keys, checked on the raw configuration:
// the collector decodes 1.5 as 1 and 60 as 60ns without a word.
var rawKeys = confignumbers.RawKeysOf(reflect.TypeFor[Config]())
