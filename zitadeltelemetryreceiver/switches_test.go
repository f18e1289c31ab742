package zitadeltelemetryreceiver

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// emittedShape is what one run of the receiver emitted, by name: the
// metrics, the data point attributes of each, and the resource attributes
// of each.
type emittedShape struct {
	metrics    map[string]pmetric.Metric
	attributes map[string][]string // by metric
	resources  map[string][]string // by metric
}

// reportSwitched sends one whole report of two instances through a receiver
// with edited switches and returns what came out.
func reportSwitched(t *testing.T, edit func(*Config)) emittedShape {
	t.Helper()
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, edit)
	base, rows := contracttest.Report("system-s", 2, 3)
	require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 4), "a switch never refuses a call")

	shape := emittedShape{metrics: map[string]pmetric.Metric{}, attributes: map[string][]string{}, resources: map[string][]string{}}
	add := func(into map[string][]string, name string, attrs pcommon.Map) {
		for k := range attrs.All() {
			if !slices.Contains(into[name], k) {
				into[name] = append(into[name], k)
			}
		}
	}
	for _, md := range sink.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					shape.metrics[m.Name()] = m
					add(shape.resources, m.Name(), rm.Resource().Attributes())
					points := pmetric.NewNumberDataPointSlice()
					switch m.Type() {
					case pmetric.MetricTypeSum:
						points = m.Sum().DataPoints()
					case pmetric.MetricTypeGauge:
						points = m.Gauge().DataPoints()
					}
					for _, dp := range points.All() {
						add(shape.attributes, m.Name(), dp.Attributes())
					}
				}
			}
		}
	}
	return shape
}

func (s emittedShape) names() []string {
	var out []string
	for name := range s.metrics {
		out = append(out, name)
	}
	return out
}

// TestTelemetryReceiverSwitchesRemoveWhatTheySay: a metric switched off is
// not emitted, the other still is; a resource attribute switched off is on
// no resource, the others still are.
func TestTelemetryReceiverSwitchesRemoveWhatTheySay(t *testing.T) {
	all := []string{contract.ResAttrSystemID, contract.ResAttrVersion, contract.ResAttrInstanceID, contract.ResAttrDomains, contract.ResAttrCreationDate}
	for _, tc := range []struct {
		name        string
		edit        func(*MetricsBuilderConfig)
		metrics     []string
		infoAttrs   []string
		countsAttrs []string
	}{
		{
			name: "everything on", edit: func(*MetricsBuilderConfig) {},
			metrics: []string{metricInstanceInfo, contract.MetricResourceCount}, infoAttrs: all, countsAttrs: []string{contract.ResAttrSystemID, contract.ResAttrInstanceID},
		},
		{
			name: "info off", edit: func(c *MetricsBuilderConfig) { c.Metrics.ZitadelInstanceInfo.Enabled = false },
			metrics: []string{contract.MetricResourceCount}, countsAttrs: []string{contract.ResAttrSystemID, contract.ResAttrInstanceID},
		},
		{
			name: "counts off", edit: func(c *MetricsBuilderConfig) { c.Metrics.ZitadelResourceCount.Enabled = false },
			metrics: []string{metricInstanceInfo}, infoAttrs: all,
		},
		{name: "both off", edit: func(c *MetricsBuilderConfig) {
			c.Metrics.ZitadelInstanceInfo.Enabled, c.Metrics.ZitadelResourceCount.Enabled = false, false
		}},
		{
			name: "domains and version off", edit: func(c *MetricsBuilderConfig) {
				c.ResourceAttributes.ZitadelInstanceDomains.Enabled, c.ResourceAttributes.ZitadelVersion.Enabled = false, false
			}, metrics: []string{metricInstanceInfo, contract.MetricResourceCount},
			infoAttrs: []string{contract.ResAttrSystemID, contract.ResAttrInstanceID, contract.ResAttrCreationDate}, countsAttrs: []string{contract.ResAttrSystemID, contract.ResAttrInstanceID},
		},
		{
			name: "system id off", edit: func(c *MetricsBuilderConfig) { c.ResourceAttributes.ZitadelSystemID.Enabled = false },
			metrics:   []string{metricInstanceInfo, contract.MetricResourceCount},
			infoAttrs: []string{contract.ResAttrVersion, contract.ResAttrInstanceID, contract.ResAttrDomains, contract.ResAttrCreationDate}, countsAttrs: []string{contract.ResAttrInstanceID},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reportSwitched(t, func(c *Config) { tc.edit(&c.MetricsBuilderConfig) })
			assert.ElementsMatch(t, tc.metrics, got.names())
			assert.ElementsMatch(t, tc.infoAttrs, got.resources[metricInstanceInfo])
			assert.ElementsMatch(t, tc.countsAttrs, got.resources[contract.MetricResourceCount])
		})
	}
}

// TestTelemetryReceiverMatchesMetadata holds the receiver to
// zitadeltelemetryreceiver/metadata.yaml, from which documentation.md is
// generated: the switches have its names and defaults, and a report with
// every attribute emits exactly its metrics (name, unit, description, type),
// each with its attributes and the resource attributes it lists.
func TestTelemetryReceiverMatchesMetadata(t *testing.T) {
	cm, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	var meta struct {
		ResourceAttributes map[string]struct {
			Enabled bool `mapstructure:"enabled"`
		} `mapstructure:"resource_attributes"`
		Metrics map[string]struct {
			Enabled     bool           `mapstructure:"enabled"`
			Description string         `mapstructure:"description"`
			Unit        string         `mapstructure:"unit"`
			Sum         map[string]any `mapstructure:"sum"`
			Gauge       map[string]any `mapstructure:"gauge"`
			Attributes  []string       `mapstructure:"attributes"`
		} `mapstructure:"metrics"`
	}
	require.NoError(t, cm.Unmarshal(&meta, confmap.WithIgnoreUnused()))
	require.NotEmpty(t, meta.Metrics)

	switches := confmap.New()
	require.NoError(t, switches.Marshal(defaultMetricsBuilderConfig()))
	wantMetrics, wantResources := map[string]bool{}, map[string]bool{}
	for name, m := range meta.Metrics {
		wantMetrics[name] = m.Enabled
	}
	for name, r := range meta.ResourceAttributes {
		wantResources[name] = r.Enabled
	}
	assert.Equal(t, wantMetrics, testkit.EnabledByName(switches.Get("metrics")), "metrics switches")
	assert.Equal(t, wantResources, testkit.EnabledByName(switches.Get("resource_attributes")), "resource_attributes switches")

	got := reportSwitched(t, func(c *Config) { c.UpdatedAtAttribute = true })
	assert.ElementsMatch(t, slices.Collect(maps.Keys(meta.Metrics)), got.names())
	var resources []string
	for name, m := range got.metrics {
		want := meta.Metrics[name]
		assert.Equal(t, want.Unit, m.Unit(), name)
		assert.Equal(t, want.Description, m.Description(), name)
		assert.Equal(t, want.Sum != nil, m.Type() == pmetric.MetricTypeSum, name)
		assert.Equal(t, want.Gauge != nil, m.Type() == pmetric.MetricTypeGauge, name)
		assert.ElementsMatch(t, want.Attributes, got.attributes[name], name)
		for _, r := range got.resources[name] {
			if !slices.Contains(resources, r) {
				resources = append(resources, r)
			}
		}
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(meta.ResourceAttributes)), resources)
}
