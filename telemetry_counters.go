package zitadeltelemetry

import (
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// counterSpec is one of a component's own counters, as its metadata.yaml
// documents it.
type counterSpec struct {
	into              *metric.Int64Counter
	name, unit, about string
}

// newCounters creates each counter on the component's meter.
func newCounters(set component.TelemetrySettings, specs []counterSpec) error {
	m := set.MeterProvider.Meter(contract.ScopeName)
	for _, c := range specs {
		var err error
		if *c.into, err = m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.about)); err != nil {
			return err
		}
	}
	return nil
}
