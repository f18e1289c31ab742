package zitadeltelemetryreceiver

import "github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"

// MetricsBuilderConfig is the `zitadeltelemetry` receiver's
// `metrics:` and `resource_attributes:` switches, in mdatagen's shape (see
// zitadeltelemetryreceiver/metadata.yaml, which lists the same names). The
// resource attributes are the `zitadel` receiver's; the metrics are both
// that this receiver emits.
type MetricsBuilderConfig struct {
	Metrics            MetricsConfig                     `mapstructure:"metrics"`
	ResourceAttributes contract.ResourceAttributesConfig `mapstructure:"resource_attributes"`

	_ struct{}
}

// MetricsConfig switches the `zitadeltelemetry` receiver's metrics.
// A call is checked, answered and counted as accepted whatever they say; a
// metric switched off is only not emitted.
type MetricsConfig struct {
	ZitadelInstanceInfo  contract.MetricConfig `mapstructure:"zitadel.instance.info"`
	ZitadelResourceCount contract.MetricConfig `mapstructure:"zitadel.resource.count"`

	_ struct{}
}

func defaultMetricsBuilderConfig() MetricsBuilderConfig {
	on := contract.MetricConfig{Enabled: true}
	return MetricsBuilderConfig{
		Metrics:            MetricsConfig{ZitadelInstanceInfo: on, ZitadelResourceCount: on},
		ResourceAttributes: contract.DefaultResourceAttributesConfig(),
	}
}
