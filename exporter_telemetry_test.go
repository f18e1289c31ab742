package zitadeltelemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// TestExporterCountsWhatItSent: reports, pages and rows per protocol match
// what the reference endpoint took, a report id refused once counts one
// restart, and withheld rows are counted as left out.
func TestExporterCountsWhatItSent(t *testing.T) {
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			set := exportertest.NewNopSettings(ExporterType)
			set.TelemetrySettings = tel.NewTelemetrySettings()
			cfg := testExporterConfig(protocol, s)
			cfg.BulkSize = 4
			exp := startExporter(t, cfg, set)

			// 2 instances x 3 organizations x (user, an organization's enforce_mfa): the latter are withheld.
			md := testkit.ContractMetrics("sys-1", 2, 3, model.ResourceUser, model.ResourceOrganizationEnforceMFA)
			s.ExpireNext(1)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
			require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

			_, rows := s.PagesTaken()
			assert.Equal(t, map[string]int64{protocol: 2}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_reports", "protocol"))
			assert.Equal(t, map[string]int64{protocol: 1}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_report_restarts", "protocol"))
			// 6 rows in pages of 4: two pages a report, and the refused page is not counted.
			assert.Equal(t, map[string]int64{protocol: 4}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_pages", "protocol"))
			assert.Equal(t, map[string]int64{protocol: int64(rows)}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_rows", "protocol"))
			assert.Equal(t, 12, rows)
			assert.Equal(t, map[string]int64{"withheld": 12}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_rows_left_out", "reason"))
		})
	}
}

// TestRowsWithoutSystemAreCountedAsLeftOut: a batch that cannot be reported
// shows up by its reason.
func TestRowsWithoutSystemAreCountedAsLeftOut(t *testing.T) {
	s := startTelemetryServer(t)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(ExporterType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp := startExporter(t, testExporterConfig(ProtocolHTTP, s), set)

	require.Error(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("", 1, 2, model.ResourceUser)))
	assert.Equal(t, map[string]int64{"no_system_id": 2}, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_rows_left_out", "reason"))
	assert.Empty(t, testkit.CounterBy(t, tel, "otelcol_zitadeltelemetry_exporter_rows", "protocol"))
}
