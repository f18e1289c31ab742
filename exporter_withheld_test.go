package zitadeltelemetry

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// sentNames lists the resource names that reached the endpoint, once each.
func sentNames(t *testing.T, send []string) []string {
	t.Helper()
	s := startTelemetryServer(t)
	cfg := testExporterConfig(ProtocolHTTP, s)
	cfg.SendResources = send
	exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
	md := contractMetrics("sys-names", 1, 2, model.ResourceUser, model.ResourceApplication,
		model.ResourceOrganizationEnforceMFA, model.ResourceOrganizationCustomLoginPolicy,
		model.ResourceOrganizationVerifiedCustomDomain, "a_newer_zitadel_resource")
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
// only when send_resources asks for them, and without an error either way.
func TestCollectorOnlyResourcesStayOutOfTheReport(t *testing.T) {
	assert.Equal(t, []string{"a_newer_zitadel_resource", model.ResourceApplication, model.ResourceUser}, sentNames(t, nil))
	assert.Equal(t, []string{"a_newer_zitadel_resource", model.ResourceApplication, model.ResourceOrganizationEnforceMFA,
		model.ResourceUser}, sentNames(t, []string{model.ResourceOrganizationEnforceMFA}))
}
