package zitadeltelemetry

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// scrapeSampleActivity runs the receiver with activity against the fake
// ZITADEL after a month of its sample activity, and returns the first scrape.
func scrapeSampleActivity(t *testing.T) (pmetric.Metrics, fakezitadel.SampleActivity) {
	t.Helper()
	srv := startFakeZitadel(t)
	sample := srv.WriteSampleActivity(srv.Dataset().Instances[0].ID, time.Now().UTC())
	cfg := apiReceiverConfig(srv)
	cfg.Activity.Enabled = true
	cfg.Resources = []string{"organization", "user"}
	require.NoError(t, confmap.Validate(cfg))

	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 10*time.Millisecond)
	return sink.AllMetrics()[0], sample
}

// TestAPIReceiverActivityGolden compares the activity metrics of a scrape
// with the golden file: logins by application, organization, kind and
// factors, failed checks without an application, the lockout, the active
// users per window and the milestones. The milestones' values are dates of
// the run, so they are held to the sample's write times instead.
func TestAPIReceiverActivityGolden(t *testing.T) {
	got, sample := scrapeSampleActivity(t)

	path := filepath.Join(apiTestdata, "activity.yaml")
	if os.Getenv("ZITADEL_UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, got))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, got,
		pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreResourceAttributeValue(contract.ResAttrSystemID),
		pmetrictest.IgnoreMetricValues(contract.MetricMilestoneReached)))

	reached := map[string]int64{}
	var loginsStart, checksStart int64
	forEachMetric(got, func(m pmetric.Metric) {
		switch m.Name() {
		case contract.MetricMilestoneReached:
			for i := range m.Gauge().DataPoints().Len() {
				dp := m.Gauge().DataPoints().At(i)
				typ, _ := dp.Attributes().Get(contract.AttrMilestoneType)
				reached[typ.Str()] = dp.IntValue()
			}
		case contract.MetricLogins:
			loginsStart = int64(m.Sum().DataPoints().At(0).StartTimestamp())
		case contract.MetricChecks:
			checksStart = int64(m.Sum().DataPoints().At(0).StartTimestamp())
		}
	})
	first := sample.FirstAuthentication.Unix()
	assert.Equal(t, first, reached["authentication_succeeded_on_instance"])
	assert.Equal(t, first, reached["authentication_succeeded_on_application"])
	assert.NotZero(t, loginsStart, "the counters have a start time")
	assert.Equal(t, loginsStart, checksStart, "every counter of an instance starts together")
}

func forEachMetric(md pmetric.Metrics, fn func(pmetric.Metric)) {
	for i := range md.ResourceMetrics().Len() {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				fn(ms.At(k))
			}
		}
	}
}
