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
	// defaultGRPCMaxMessageBytes is grpc-go's own, which configgrpc keeps
	// when max_recv_msg_size_mib is 0.
	defaultGRPCMaxMessageBytes = 4 << 20
	// defaultMaxBytesInFlight takes 16 of ZITADEL's pages at once (2.4 MiB
	// of JSON and 10,000 rows: 7.5 MiB charged) and keeps the collector's
	// peak, which is about twice what the calls hold plus the idle 40 MiB,
	// within a 512 MiB memory_limiter.
	defaultMaxBytesInFlight = 128 << 20
	// defaultMaxHeaderBytes fits ZITADEL's few hundred bytes of headers and
	// an SDK's or an exporter's bearer token (a JWT of a few kilobytes)
	// several times; nginx takes 8 KiB a header line.
	defaultMaxHeaderBytes = 16 << 10
	// defaultMaxConnections: a connection whose headers have not all arrived
	// holds up to about 40 KiB (the header limit and its buffers), 1000 of
	// them 40 MiB; an installation keeps one kept-alive connection for
	// each of its ZITADEL processes.
	defaultMaxConnections = 1000
	// defaultGRPCMaxConcurrentStreams is HTTP/2's recommended least; grpc-go
	// has no bound of its own.
	defaultGRPCMaxConcurrentStreams = 100
	// defaultGRPCReadTimeout is the HTTP server's read timeout: a gRPC
	// client sends its message right after the call's headers.
	defaultGRPCReadTimeout = defaultReadTimeout
	// defaultGRPCMaxConnectionIdle closes a gRPC connection without a call
	// for a minute, as the HTTP server's idle_timeout does: grpc-go keeps
	// one open for ever otherwise, holding one of max_connections.
	defaultGRPCMaxConnectionIdle = time.Minute
	// grpcHandshakeTimeout is how long a gRPC connection may take to
	// complete its TLS handshake and HTTP/2 preface, as read_header_timeout
	// bounds an HTTP request's headers; grpc-go's own is two minutes.
	grpcHandshakeTimeout = defaultReadHeaderTimeout
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
	grpcCfg := GRPCConfig{ServerConfig: configgrpc.NewDefaultServerConfig(), ReadTimeout: defaultGRPCReadTimeout}
	grpcCfg.NetAddr.Endpoint = defaultGRPCEndpoint
	grpcCfg.MaxConcurrentStreams = defaultGRPCMaxConcurrentStreams
	keepalive := configgrpc.NewDefaultKeepaliveServerConfig()
	keepalive.ServerParameters.Get().MaxConnectionIdle = defaultGRPCMaxConnectionIdle
	grpcCfg.Keepalive = configoptional.Some(keepalive)
	return &Config{
		HTTP:                configoptional.Some(HTTPConfig{ServerConfig: httpCfg, Path: defaultPath}),
		GRPC:                configoptional.Default(grpcCfg),
		ReportIDs:           ReportIDConfig{TTL: defaultReportIDTTL},
		MaxRowsPerPage:      defaultMaxRowsPerPage,
		MaxInstancesPerCall: defaultMaxInstancesPerCall,
		MaxBytesInFlight:    defaultMaxBytesInFlight,
		MaxHeaderBytes:      defaultMaxHeaderBytes,
		MaxConnections:      defaultMaxConnections,

		MetricsBuilderConfig: defaultMetricsBuilderConfig(),
	}
}

func createMetricsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newTelemetryReceiver(cfg.(*Config), set, next)
}
