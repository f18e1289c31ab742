package testkit

import (
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Instrument is what a component said about one of its own metrics when it
// created the instrument.
type Instrument struct {
	Kind, Unit, Description string
}

// Instruments is a MeterProvider that records, by name, every counter and
// histogram created on it: the parity tests hold them to metadata.yaml.
type Instruments struct {
	noop.MeterProvider
	mu      sync.Mutex
	created map[string]Instrument
}

// Meter implements metric.MeterProvider.
func (p *Instruments) Meter(string, ...metric.MeterOption) metric.Meter {
	return instrumentsMeter{p: p}
}

// Created returns the instruments created so far.
func (p *Instruments) Created() map[string]Instrument {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Instrument, len(p.created))
	for k, v := range p.created {
		out[k] = v
	}
	return out
}

func (p *Instruments) add(name, kind, unit, description string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.created == nil {
		p.created = map[string]Instrument{}
	}
	p.created[name] = Instrument{Kind: kind, Unit: unit, Description: description}
}

type instrumentsMeter struct {
	noop.Meter
	p *Instruments
}

func (m instrumentsMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	c := metric.NewInt64CounterConfig(opts...)
	m.p.add(name, "Int64Counter", c.Unit(), c.Description())
	return m.Meter.Int64Counter(name, opts...)
}

func (m instrumentsMeter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	c := metric.NewFloat64HistogramConfig(opts...)
	m.p.add(name, "Float64Histogram", c.Unit(), c.Description())
	return m.Meter.Float64Histogram(name, opts...)
}
