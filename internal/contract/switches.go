package contract

import (
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// MetricsBuilderConfig is the `zitadel` receiver's `metrics:` and `resource_attributes:`
// switches, in the shape mdatagen generates for scrapers (see
// zitadelreceiver/metadata.yaml, which lists the same names).
type MetricsBuilderConfig struct {
	Metrics            MetricsConfig            `mapstructure:"metrics"`
	ResourceAttributes ResourceAttributesConfig `mapstructure:"resource_attributes"`

	_ struct{}
}

// MetricsConfig switches the `zitadel` receiver's metrics.
type MetricsConfig struct {
	ZitadelResourceCount MetricConfig `mapstructure:"zitadel.resource.count"`
	// The activity metrics (activity::enabled).
	ZitadelLogins           MetricConfig `mapstructure:"zitadel.logins"`
	ZitadelChecks           MetricConfig `mapstructure:"zitadel.checks"`
	ZitadelLockouts         MetricConfig `mapstructure:"zitadel.lockouts"`
	ZitadelUsersActive      MetricConfig `mapstructure:"zitadel.users.active"`
	ZitadelMilestoneReached MetricConfig `mapstructure:"zitadel.milestone.reached"`

	_ struct{}
}

// MetricConfig switches one metric.
type MetricConfig struct {
	Enabled bool `mapstructure:"enabled"`

	_ struct{}
}

// ResourceAttributesConfig switches the attributes of each instance's resource.
type ResourceAttributesConfig struct {
	ZitadelSystemID             ResourceAttributeConfig `mapstructure:"zitadel.system.id"`
	ZitadelVersion              ResourceAttributeConfig `mapstructure:"zitadel.version"`
	ZitadelInstanceID           ResourceAttributeConfig `mapstructure:"zitadel.instance.id"`
	ZitadelInstanceDomains      ResourceAttributeConfig `mapstructure:"zitadel.instance.domains"`
	ZitadelInstanceCreationDate ResourceAttributeConfig `mapstructure:"zitadel.instance.creation_date"`

	_ struct{}
}

// ResourceAttributeConfig switches one resource attribute.
type ResourceAttributeConfig struct {
	Enabled bool `mapstructure:"enabled"`

	_ struct{}
}

// DefaultMetricsBuilderConfig turns everything on: the exporter needs every
// attribute to build ZITADEL's report.
func DefaultMetricsBuilderConfig() MetricsBuilderConfig {
	return MetricsBuilderConfig{
		Metrics:            DefaultMetricsConfig(),
		ResourceAttributes: DefaultResourceAttributesConfig(),
	}
}

func DefaultResourceAttributesConfig() ResourceAttributesConfig {
	on := ResourceAttributeConfig{Enabled: true}
	return ResourceAttributesConfig{
		ZitadelSystemID: on, ZitadelVersion: on, ZitadelInstanceID: on,
		ZitadelInstanceDomains: on, ZitadelInstanceCreationDate: on,
	}
}

// Disabled names the resource attributes switched off.
func (c ResourceAttributesConfig) Disabled() []string {
	var off []string
	for _, a := range []struct {
		name string
		cfg  ResourceAttributeConfig
	}{
		{ResAttrSystemID, c.ZitadelSystemID},
		{ResAttrVersion, c.ZitadelVersion},
		{ResAttrInstanceID, c.ZitadelInstanceID},
		{ResAttrDomains, c.ZitadelInstanceDomains},
		{ResAttrCreationDate, c.ZitadelInstanceCreationDate},
	} {
		if !a.cfg.Enabled {
			off = append(off, a.name)
		}
	}
	return off
}

// RemoveDisabled leaves out of md the resource attributes the switches turn
// off: they never leave the receiver.
func (c ResourceAttributesConfig) RemoveDisabled(md pmetric.Metrics) pmetric.Metrics {
	off := c.Disabled()
	if len(off) == 0 {
		return md
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		attrs := rms.At(i).Resource().Attributes()
		for _, name := range off {
			attrs.Remove(name)
		}
	}
	return md
}
