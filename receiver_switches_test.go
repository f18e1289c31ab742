package zitadeltelemetry

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

func TestSwitchesLoad(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "receiver", "switches.yaml"))
	require.NoError(t, err)

	domainsOff := createDefaultReceiverConfig().(*ReceiverConfig)
	domainsOff.API.Endpoint = "zitadel.example.com:443"
	domainsOff.API.TokenFile = "/run/secrets/zitadel-pat"
	domainsOff.ResourceAttributes.ZitadelInstanceDomains.Enabled = false
	countOff := createDefaultReceiverConfig().(*ReceiverConfig)
	countOff.API = domainsOff.API
	countOff.Metrics.ZitadelResourceCount.Enabled = false

	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "domains_off", want: domainsOff},
		{key: "count_off", want: countOff},
		{key: "unknown_attribute", errs: []string{"zitadel.instance.name"}},
	})
}

// TestDomainsSwitchedOffNeverLeaveTheReceiver scrapes the fake ZITADEL with
// the domains switched off: no resource carries them, everything else stays.
func TestDomainsSwitchedOffNeverLeaveTheReceiver(t *testing.T) {
	md := scrapeSwitched(t, func(c *contract.MetricsBuilderConfig) { c.ResourceAttributes.ZitadelInstanceDomains.Enabled = false })
	require.Positive(t, md.ResourceMetrics().Len())
	for i := range md.ResourceMetrics().Len() {
		attrs := md.ResourceMetrics().At(i).Resource().Attributes()
		_, hasDomains := attrs.Get(contract.ResAttrDomains)
		assert.False(t, hasDomains)
		for _, name := range []string{contract.ResAttrInstanceID, contract.ResAttrSystemID, contract.ResAttrCreationDate} {
			_, ok := attrs.Get(name)
			assert.True(t, ok, name)
		}
	}
	assert.Positive(t, md.DataPointCount())
}

// scrapeSwitched scrapes the fake ZITADEL once with edited switches.
func scrapeSwitched(t *testing.T, edit func(*contract.MetricsBuilderConfig)) pmetric.Metrics {
	t.Helper()
	cfg := apiReceiverConfig(startFakeZitadel(t))
	edit(&cfg.MetricsBuilderConfig)
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(t.Context())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)
	return md
}

func TestCountSwitchedOffEmitsNothing(t *testing.T) {
	md := scrapeSwitched(t, func(c *contract.MetricsBuilderConfig) { c.Metrics.ZitadelResourceCount.Enabled = false })
	assert.Zero(t, md.ResourceMetrics().Len())
}

// TestSwitchesMatchMetadata holds the hand-kept switches to the names in
// zitadelreceiver/metadata.yaml, from which documentation.md is generated.
func TestSwitchesMatchMetadata(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("zitadelreceiver", "metadata.yaml"))
	require.NoError(t, err)
	meta := cm.ToStringMap()
	assert.Equal(t, map[string]bool{
		contract.ResAttrSystemID: true, contract.ResAttrVersion: true, contract.ResAttrInstanceID: true,
		contract.ResAttrDomains: true, contract.ResAttrCreationDate: true,
	}, testkit.EnabledByName(meta["resource_attributes"]))
	assert.Equal(t, map[string]bool{
		contract.MetricResourceCount: true, contract.MetricLogins: true, contract.MetricChecks: true, contract.MetricLockouts: true,
		contract.MetricUsersActive: true, contract.MetricMilestoneReached: true,
	}, testkit.EnabledByName(meta["metrics"]))
	def := contract.DefaultMetricsBuilderConfig()
	assert.Empty(t, def.ResourceAttributes.Disabled())
	assert.Equal(t, contract.DefaultMetricsConfig(), def.Metrics)
	for _, on := range []bool{
		def.Metrics.ZitadelResourceCount.Enabled, def.Metrics.ZitadelLogins.Enabled, def.Metrics.ZitadelChecks.Enabled,
		def.Metrics.ZitadelLockouts.Enabled, def.Metrics.ZitadelUsersActive.Enabled, def.Metrics.ZitadelMilestoneReached.Enabled,
	} {
		assert.True(t, on)
	}

	// Every metric the contract builds is the one metadata.yaml describes.
	b := contract.NewBuilder(testkit.Observed, testkit.Observed, "sys", "")
	b.SwitchActivity(contract.DefaultMetricsConfig())
	b.RecordCount(model.Count{InstanceID: "i1", ParentType: model.ParentInstance, ParentID: "i1", Resource: model.ResourceUser, Amount: 1})
	b.RecordActivity("i1", activity.Report{
		Start:      testkit.Observed,
		Logins:     []activity.Login{{Count: 1}},
		Checks:     []activity.Check{{Count: 1}},
		Lockouts:   []activity.Lockout{{Organization: "o1", Count: 1}},
		Active:     []activity.ActiveUsers{{ParentType: activity.ParentInstance, Window: "1d", Users: 1}},
		Milestones: []activity.Milestone{{Type: "instance_created", ReachedAt: testkit.Observed}},
	})
	ms := b.Emit().ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	seen := map[string]bool{}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		seen[m.Name()] = true
		md, err := cm.Sub("metrics::" + m.Name())
		require.NoError(t, err)
		assert.Equal(t, md.Get("description"), m.Description(), m.Name())
		assert.Equal(t, md.Get("unit"), m.Unit(), m.Name())
		switch m.Type() {
		case pmetric.MetricTypeSum:
			require.NotNil(t, md.Get("sum"), "%s: metadata.yaml has no sum", m.Name())
			assert.Equal(t, md.Get("sum::monotonic"), m.Sum().IsMonotonic(), m.Name())
			assert.Equal(t, md.Get("sum::aggregation_temporality"), strings.ToLower(m.Sum().AggregationTemporality().String()), m.Name())
			assert.Equal(t, md.Get("sum::value_type"), strings.ToLower(m.Sum().DataPoints().At(0).ValueType().String()), m.Name())
		case pmetric.MetricTypeGauge:
			require.NotNil(t, md.Get("gauge"), "%s: metadata.yaml has no gauge", m.Name())
			assert.Equal(t, md.Get("gauge::value_type"), strings.ToLower(m.Gauge().DataPoints().At(0).ValueType().String()), m.Name())
		default:
			t.Errorf("%s: a %s, which metadata.yaml cannot describe", m.Name(), m.Type())
		}
	}
	assert.Equal(t, testkit.EnabledByName(meta["metrics"]), seen, "the contract builds every metric metadata.yaml lists")
}
