package zitadeltelemetryreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

// The defaults: ZITADEL's own wire on loopback, gRPC off until configured.
const (
	defaultHTTPEndpoint = "localhost:4320"
	defaultGRPCEndpoint = "localhost:4321"
	defaultPath         = "/zitadel/ping"
	// ZITADEL retries a failed part of a report for a few minutes and
	// reports every 30 minutes at most often; a day is ample.
	defaultReportIDTTL = 24 * time.Hour
	// defaultMaxRowsPerPage leaves ZITADEL's BulkSize (10000) room to grow; a
	// page this long in ZITADEL's JSON is about 17 MB, within the default
	// max_request_body_size of 20 MiB.
	defaultMaxRowsPerPage = 50000
	// defaultMaxInstancesPerCall is far beyond a self-hosted installation (a
	// few instances) and a large multi-tenant one (thousands), and bounds a
	// base information's metrics to about 10 MB.
	defaultMaxInstancesPerCall = 10000
	// defaultMaxRequestBodySize is confighttp's own default, written out so
	// that the handler and the server enforce one limit.
	defaultMaxRequestBodySize = 20 << 20
	// A body that never ends holds its connection until read_timeout; a
	// page of 2.4 MiB takes a second on a slow link. read_header_timeout
	// cuts slow headers sooner, idle_timeout (keepalive) idle connections.
	defaultReadTimeout       = 30 * time.Second
	defaultReadHeaderTimeout = 10 * time.Second
)

// NewFactory returns the factory of the `zitadeltelemetry` receiver, whose
// type (metadata.Type) is the exporter's, as `otlp` names both of its
// components.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	httpCfg.NetAddr.Endpoint = defaultHTTPEndpoint
	httpCfg.MaxRequestBodySize = defaultMaxRequestBodySize
	httpCfg.ReadTimeout = defaultReadTimeout
	httpCfg.ReadHeaderTimeout = defaultReadHeaderTimeout
	grpcCfg := configgrpc.NewDefaultServerConfig()
	grpcCfg.NetAddr.Endpoint = defaultGRPCEndpoint
	return &Config{
		HTTP:                configoptional.Some(HTTPConfig{ServerConfig: httpCfg, Path: defaultPath}),
		GRPC:                configoptional.Default(grpcCfg),
		ReportIDs:           ReportIDConfig{TTL: defaultReportIDTTL},
		MaxRowsPerPage:      defaultMaxRowsPerPage,
		MaxInstancesPerCall: defaultMaxInstancesPerCall,

		MetricsBuilderConfig: defaultMetricsBuilderConfig(),
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newTelemetryReceiver(cfg.(*Config), set, next)
}
