package zitadeltelemetry

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// sentNames lists the resource names that reached the endpoint, once each.
func sentNames(t *testing.T, send []string) []string {
	t.Helper()
	s := startTelemetryServer(t)
	cfg := testExporterConfig(ProtocolHTTP, s)
	cfg.SendResources = send
	exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
	md := testkit.ContractMetrics("sys-names", 1, 2, model.ResourceUser, model.ResourceApplication,
		model.ResourceOrganizationEnforceMFA, model.ResourceOrganizationCustomLoginPolicy,
		model.ResourceOrganizationVerifiedCustomDomain, model.ResourceUserByState, "a_newer_zitadel_resource")
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	snap, ok := s.Snapshot("sys-names")
	require.True(t, ok)
	seen := map[string]bool{}
	for _, r := range snap.Rows {
		seen[r.ResourceName] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestCollectorOnlyResourcesStayOutOfTheReport: ZITADEL's endpoint gets
// ZITADEL's names and those sent before, and names it may come to know
// (passed on from a newer ZITADEL); the collector's own feature-usage names
// only when send_resources asks for them, and without an error either way;
// user_by_state never, since its rows differ only in attributes the report
// has no field for.
func TestCollectorOnlyResourcesStayOutOfTheReport(t *testing.T) {
	assert.Equal(t, []string{"a_newer_zitadel_resource", model.ResourceApplication, model.ResourceUser}, sentNames(t, nil))
	assert.Equal(t, []string{
		"a_newer_zitadel_resource", model.ResourceApplication, model.ResourceOrganizationEnforceMFA,
		model.ResourceUser,
	}, sentNames(t, []string{model.ResourceOrganizationEnforceMFA}))
}

// TestUserByStateReachesMetricsNotTheReport scrapes users by state through
// the receiver: the points carry the state and type, add up to user, and the
// report built from the same batch has no row of them and no refusal.
func TestUserByStateReachesMetricsNotTheReport(t *testing.T) {
	srv := startFakeZitadel(t)
	cfg := apiReceiverConfig(srv)
	cfg.Resources = []string{model.ResourceUser, model.ResourceUserByState}
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)

	users, byState := map[string]int64{}, map[string]int64{}
	states := map[string]bool{}
	points := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	for i := range points.Len() {
		attrs := points.At(i).Attributes()
		name, _ := attrs.Get(contract.AttrResourceName)
		parent, _ := attrs.Get(contract.AttrParentID)
		if name.Str() == model.ResourceUser {
			users[parent.Str()] = points.At(i).IntValue()
			continue
		}
		st, ok := attrs.Get(contract.AttrUserState)
		require.True(t, ok)
		typ, ok := attrs.Get(contract.AttrUserType)
		require.True(t, ok)
		states[typ.Str()+"/"+st.Str()] = true
		byState[parent.Str()] += points.At(i).IntValue()
	}
	assert.Equal(t, users, byState)
	assert.Len(t, states, 8)

	exp := newTelemetryExporter(createDefaultExporterConfig().(*ExporterConfig), componenttest.NewNopTelemetrySettings())
	built := exp.builder.Build(md)
	require.Empty(t, built.Errors())
	require.Len(t, built.Systems(), 1)
	assert.Len(t, built.Systems()[0].Rows(), len(users))
	for _, r := range built.Systems()[0].Rows() {
		assert.Equal(t, model.ResourceUser, r.ResourceName)
	}
}
