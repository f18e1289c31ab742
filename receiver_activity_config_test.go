package zitadeltelemetry

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

func TestActivityBlockOnBothSources(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "receiver", "config.yaml"))
	require.NoError(t, err)
	storage := component.MustNewID("file_storage")

	topLevel := createDefaultReceiverConfig().(*ReceiverConfig)
	topLevel.Source = SourceDatabase
	topLevel.Database.DSN = "postgres://reader@db.internal:5432/zitadel"
	topLevel.Activity.Enabled, topLevel.Activity.ActiveUsersPerOrganization = true, true
	topLevel.Activity.Lookback, topLevel.Activity.MaxEventsPerScrape = 7*24*time.Hour, 200_000
	topLevel.Activity.MaxApplicationsPerOrganization = 500
	topLevel.Activity.Storage = &storage

	// The deprecated block says the same as the top-level one.
	inAPI := createDefaultReceiverConfig().(*ReceiverConfig)
	inAPI.API.Endpoint, inAPI.API.TokenFile = "zitadel.example.com:443", "/run/secrets/zitadel-pat"
	inAPI.API.Activity.Enabled, inAPI.API.Activity.MaxPagesPerScrape, inAPI.API.Activity.Storage = true, 5, &storage
	inAPI.API.Activity.MaxApplicationsPerOrganization = 20
	inAPI.Activity.Enabled, inAPI.Activity.MaxEventsPerScrape, inAPI.Activity.Storage = true, 5_000, &storage
	inAPI.Activity.MaxApplicationsPerOrganization = 20
	inAPI.deprecatedAPIActivity = true

	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "activity_top_level", want: topLevel},
		{key: "activity_in_the_api_block", want: inAPI},
		{key: "activity_in_both_blocks", errs: []string{"api::activity: replaced by the top-level activity block, which is set too"}},
		{key: "activity_bad_values", errs: []string{
			"activity::lookback: -1h0m0s must be positive",
			"activity::max_events_per_scrape: 0 must be at least 1",
			"activity::max_applications_per_organization: 0 must be at least 1",
		}},
		{key: "activity_lookback_beyond_retention", errs: []string{
			"activity::lookback: 48h0m0s is longer than api::audit_log_retention (24h0m0s)",
		}},
		{key: "activity_fractional_events", errs: []string{"activity::max_events_per_scrape: 1.5 is not a whole number"}},
	})
}

func TestDeprecatedActivityBlockIsNamedInAWarning(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "receiver", "config.yaml"))
	require.NoError(t, err)
	for key, warned := range map[string]bool{"activity_in_the_api_block": true, "activity_top_level": false} {
		sub, err := cm.Sub(key)
		require.NoError(t, err)
		cfg := createDefaultReceiverConfig().(*ReceiverConfig)
		require.NoError(t, sub.Unmarshal(cfg))
		core, logs := observer.New(zap.WarnLevel)
		set := receivertest.NewNopSettings(ReceiverType)
		set.Logger = zap.New(core)
		_, err = NewReceiverFactory().CreateMetrics(t.Context(), set, cfg, nil)
		require.NoError(t, err)
		deprecated := logs.FilterMessageSnippet("api::activity is deprecated").All()
		if !warned {
			assert.Empty(t, deprecated, key)
			continue
		}
		require.Len(t, deprecated, 1, key)
		assert.Contains(t, deprecated[0].Message, "top-level activity block")
		assert.Contains(t, deprecated[0].Message, "max_events_per_scrape")
	}
}

// The activity section's example configuration gives the activity block's
// defaults as the config type has them (TestREADMEsStateTheDefaults holds the
// key table).
func TestREADMEsStateTheActivityDefaults(t *testing.T) {
	d := activity.NewDefaultConfig()
	lookback := strings.TrimSuffix(d.Lookback.String(), "0m0s")
	events := strconv.Itoa(d.MaxEventsPerScrape)
	ref, err := os.ReadFile(filepath.Join("zitadelreceiver", "README.md"))
	require.NoError(t, err)
	apps := strconv.Itoa(d.MaxApplicationsPerOrganization)
	assert.Contains(t, string(ref), "lookback: "+lookback+" ")
	assert.Contains(t, string(ref), "max_events_per_scrape: "+events+" ")
	assert.Contains(t, string(ref), "max_applications_per_organization: "+apps+" ")
}
