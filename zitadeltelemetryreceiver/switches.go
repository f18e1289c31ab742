package zitadeltelemetry

import "github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"

// TelemetryMetricsBuilderConfig is the `zitadeltelemetry` receiver's
// `metrics:` and `resource_attributes:` switches, in mdatagen's shape (see
// zitadeltelemetryreceiver/metadata.yaml, which lists the same names). The
// resource attributes are the `zitadel` receiver's; the metrics are both
// that this receiver emits.
type TelemetryMetricsBuilderConfig struct {
	Metrics            TelemetryMetricsConfig            `mapstructure:"metrics"`
	ResourceAttributes contract.ResourceAttributesConfig `mapstructure:"resource_attributes"`

	_ struct{}
}

// TelemetryMetricsConfig switches the `zitadeltelemetry` receiver's metrics.
// A call is checked, answered and counted as accepted whatever they say; a
// metric switched off is only not emitted.
type TelemetryMetricsConfig struct {
	ZitadelInstanceInfo  contract.MetricConfig `mapstructure:"zitadel.instance.info"`
	ZitadelResourceCount contract.MetricConfig `mapstructure:"zitadel.resource.count"`

	_ struct{}
}

func defaultTelemetryMetricsBuilderConfig() TelemetryMetricsBuilderConfig {
	on := contract.MetricConfig{Enabled: true}
	return TelemetryMetricsBuilderConfig{
		Metrics:            TelemetryMetricsConfig{ZitadelInstanceInfo: on, ZitadelResourceCount: on},
		ResourceAttributes: contract.DefaultResourceAttributesConfig(),
	}
}
