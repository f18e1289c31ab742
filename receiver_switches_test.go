package zitadeltelemetry

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
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
	md := scrapeSwitched(t, func(c *MetricsBuilderConfig) { c.ResourceAttributes.ZitadelInstanceDomains.Enabled = false })
	require.Positive(t, md.ResourceMetrics().Len())
	for i := range md.ResourceMetrics().Len() {
		attrs := md.ResourceMetrics().At(i).Resource().Attributes()
		_, hasDomains := attrs.Get(resAttrDomains)
		assert.False(t, hasDomains)
		for _, name := range []string{resAttrInstanceID, resAttrSystemID, resAttrCreationDate} {
			_, ok := attrs.Get(name)
			assert.True(t, ok, name)
		}
	}
	assert.Positive(t, md.DataPointCount())
}

// scrapeSwitched scrapes the fake ZITADEL once with edited switches.
func scrapeSwitched(t *testing.T, edit func(*MetricsBuilderConfig)) pmetric.Metrics {
	t.Helper()
	cfg := apiReceiverConfig(startFakeZitadel(t))
	edit(&cfg.MetricsBuilderConfig)
	s := newZitadelScraper(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(t.Context())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)
	return md
}

func TestCountSwitchedOffEmitsNothing(t *testing.T) {
	md := scrapeSwitched(t, func(c *MetricsBuilderConfig) { c.Metrics.ZitadelResourceCount.Enabled = false })
	assert.Zero(t, md.ResourceMetrics().Len())
}

// enabledByName reads a block of switches (name: {enabled: …}).
func enabledByName(block any) map[string]bool {
	out := map[string]bool{}
	for name, v := range block.(map[string]any) {
		out[name] = v.(map[string]any)["enabled"].(bool)
	}
	return out
}

// TestSwitchesMatchMetadata holds the hand-kept switches to the names in
// zitadelreceiver/metadata.yaml, from which documentation.md is generated.
func TestSwitchesMatchMetadata(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("zitadelreceiver", "metadata.yaml"))
	require.NoError(t, err)
	meta := cm.ToStringMap()
	assert.Equal(t, map[string]bool{resAttrSystemID: true, resAttrVersion: true, resAttrInstanceID: true,
		resAttrDomains: true, resAttrCreationDate: true}, enabledByName(meta["resource_attributes"]))
	assert.Equal(t, map[string]bool{metricResourceCount: true, metricLogins: true, metricChecks: true, metricLockouts: true,
		metricUsersActive: true, metricMilestoneReached: true}, enabledByName(meta["metrics"]))
	def := defaultMetricsBuilderConfig()
	assert.Empty(t, def.ResourceAttributes.disabled())
	assert.Equal(t, defaultMetricsConfig(), def.Metrics)
	for _, on := range []bool{def.Metrics.ZitadelResourceCount.Enabled, def.Metrics.ZitadelLogins.Enabled, def.Metrics.ZitadelChecks.Enabled,
		def.Metrics.ZitadelLockouts.Enabled, def.Metrics.ZitadelUsersActive.Enabled, def.Metrics.ZitadelMilestoneReached.Enabled} {
		assert.True(t, on)
	}
}

// TestOwnMetricsMatchMetadata holds the instruments the components create to
// the telemetry each metadata.yaml documents (mdatagen adds otelcol_).
func TestOwnMetricsMatchMetadata(t *testing.T) {
	for dir, want := range map[string][]string{
		"zitadelreceiver": {zitadelapi.MetricAPICalls, zitadelapi.MetricAPIRetries, zitadelapi.MetricAPIThrottledCalls,
			zitadeldb.MetricRowsRead, metricScrapeDuration},
		"zitadelexporter": {metricExporterPages, metricExporterReportRestarts, metricExporterReports,
			metricExporterRows, metricExporterRowsLeftOut},
		"zitadeltelemetryreceiver": {metricReceiverAcceptedReports, metricReceiverAcceptedPages, metricReceiverAcceptedRows,
			metricReceiverRefusedCalls},
	} {
		cm, err := confmaptest.LoadConf(filepath.Join(dir, "metadata.yaml"))
		require.NoError(t, err)
		sub, err := cm.Sub("telemetry::metrics")
		require.NoError(t, err)
		var got []string
		for name := range sub.ToStringMap() {
			got = append(got, "otelcol_"+name)
		}
		assert.ElementsMatch(t, want, got, dir)
	}
}
