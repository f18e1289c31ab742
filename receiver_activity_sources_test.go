package zitadeltelemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// firstScrape runs a receiver on cfg until its first batch.
func firstScrape(t *testing.T, cfg *ReceiverConfig) pmetric.Metrics {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, rcv.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 20*time.Second, 10*time.Millisecond)
	return sink.AllMetrics()[0]
}

// activityPoints is every point of the activity metrics, by instance,
// metric and attributes.
func activityPoints(md pmetric.Metrics) map[string]int64 {
	out := map[string]int64{}
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		inst, _ := rm.Resource().Attributes().Get(contract.ResAttrInstanceID)
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				var dps pmetric.NumberDataPointSlice
				switch m.Name() {
				case contract.MetricLogins, contract.MetricChecks, contract.MetricLockouts:
					dps = m.Sum().DataPoints()
				case contract.MetricUsersActive, contract.MetricMilestoneReached:
					dps = m.Gauge().DataPoints()
				default:
					continue
				}
				for d := range dps.Len() {
					dp := dps.At(d)
					var attrs []string
					dp.Attributes().Range(func(k string, v pcommon.Value) bool {
						attrs = append(attrs, k+"="+v.AsString())
						return true
					})
					slices.Sort(attrs)
					out[fmt.Sprintf("%s %s {%s}", inst.Str(), m.Name(), strings.Join(attrs, ","))] = dp.IntValue()
				}
			}
		}
	}
	return out
}

// replayIntoDatabase writes a fake ZITADEL instance's events and milestones
// into d as ZITADEL would have written them.
func replayIntoDatabase(t *testing.T, d *zitadeldbtest.DB, in *fakezitadel.Instance) {
	t.Helper()
	d.AddInstance(t, in.ID, in.CreatedAt, in.ID+".zitadel.example.com")
	var events []zitadeldbtest.Event
	for _, e := range in.Events() {
		payload := ""
		if e.Payload != nil {
			b, err := json.Marshal(e.Payload)
			require.NoError(t, err)
			payload = string(b)
		}
		events = append(events, zitadeldbtest.Event{InstanceID: in.ID, AggregateType: e.AggregateType, AggregateID: e.AggregateID,
			Type: e.Type, Owner: e.ResourceOwner, Payload: payload, CreatedAt: e.CreatedAt})
	}
	for typ, at := range in.Milestones() {
		name := strings.ToLower(strings.TrimPrefix(typ.String(), "MILESTONE_TYPE_"))
		events = append(events, zitadeldbtest.Event{InstanceID: in.ID, AggregateType: "milestone", AggregateID: in.ID,
			Type: "milestone.reached", Owner: in.ID, CreatedAt: at,
			Payload: fmt.Sprintf(`{"type": %q, "reachedDate": %q, "primaryDomain": "login.example.com"}`, name, at.Format(time.RFC3339Nano))})
	}
	d.PushNow(t, events...)
}

// TestActivityIsTheSameOnBothSources runs the api source over a fake
// ZITADEL's month of sample activity and the database source over the same
// events in PostgreSQL, and compares every point of every activity metric.
func TestActivityIsTheSameOnBothSources(t *testing.T) {
	d := zitadeldbtest.New(t)
	srv := startFakeZitadel(t)
	in := srv.Dataset().Instances[0]
	srv.WriteSampleActivity(in.ID, time.Now().UTC())
	replayIntoDatabase(t, d, in)

	apiCfg := apiReceiverConfig(srv)
	apiCfg.Resources = []string{"organization"}
	apiCfg.Activity.Enabled, apiCfg.Activity.ActiveUsersPerOrganization = true, true
	fromAPI := activityPoints(firstScrape(t, apiCfg))

	dbCfg := createDefaultReceiverConfig().(*ReceiverConfig)
	dbCfg.InitialDelay = 0
	dbCfg.Source = SourceDatabase
	dbCfg.Database.DSN = configopaque.String(d.DSN)
	dbCfg.Resources = apiCfg.Resources
	dbCfg.Activity = apiCfg.Activity
	fromDB := activityPoints(firstScrape(t, dbCfg))

	require.NotEmpty(t, fromAPI)
	for _, metric := range []string{contract.MetricLogins, contract.MetricChecks, contract.MetricLockouts,
		contract.MetricUsersActive, contract.MetricMilestoneReached} {
		found := false
		for k := range fromAPI {
			found = found || strings.Contains(k, " "+metric+" ")
		}
		assert.True(t, found, "the sample holds %s", metric)
	}
	assert.Equal(t, fromAPI, fromDB)
}
