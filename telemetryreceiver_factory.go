package zitadeltelemetry

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

// TelemetryReceiverType is the key of the TelemetryService receiver in
// collector YAML: the exporter's, as `otlp` names both of its components.
var TelemetryReceiverType = component.MustNewType("zitadeltelemetry")

const telemetryReceiverStability = component.StabilityLevelAlpha

// NewTelemetryReceiverFactory returns the factory of the `zitadeltelemetry`
// receiver.
func NewTelemetryReceiverFactory() receiver.Factory {
	return receiver.NewFactory(TelemetryReceiverType, createDefaultTelemetryReceiverConfig,
		receiver.WithMetrics(createTelemetryReceiver, telemetryReceiverStability))
}

func createDefaultTelemetryReceiverConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	httpCfg.NetAddr.Endpoint = defaultTelemetryHTTPEndpoint
	httpCfg.MaxRequestBodySize = defaultMaxRequestBodySize
	httpCfg.ReadTimeout = defaultReadTimeout
	httpCfg.ReadHeaderTimeout = defaultReadHeaderTimeout
	grpcCfg := configgrpc.NewDefaultServerConfig()
	grpcCfg.NetAddr.Endpoint = defaultTelemetryGRPCEndpoint
	return &TelemetryReceiverConfig{
		HTTP:                configoptional.Some(TelemetryHTTPConfig{ServerConfig: httpCfg, Path: defaultTelemetryPath}),
		GRPC:                configoptional.Default(grpcCfg),
		ReportIDs:           ReportIDConfig{TTL: defaultReportIDTTL},
		MaxRowsPerPage:      defaultMaxRowsPerPage,
		MaxInstancesPerCall: defaultMaxInstancesPerCall,

		TelemetryMetricsBuilderConfig: defaultTelemetryMetricsBuilderConfig(),
	}
}

func createTelemetryReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newTelemetryReceiver(cfg.(*TelemetryReceiverConfig), set, next)
}
