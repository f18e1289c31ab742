package zitadeltelemetry

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// TestExporterSendsNoActivity passes a scrape with activity through the
// exporter to the reference endpoint: the report holds exactly the scrape's
// resource counts, and no request carries an activity metric's name,
// attribute or application id.
func TestExporterSendsNoActivity(t *testing.T) {
	md, _ := scrapeSampleActivity(t)
	counts, activity := 0, 0
	forEachMetric(md, func(m pmetric.Metric) {
		switch m.Name() {
		case contract.MetricResourceCount:
			counts += m.Sum().DataPoints().Len()
		case contract.MetricLogins, contract.MetricChecks, contract.MetricLockouts, contract.MetricUsersActive, contract.MetricMilestoneReached:
			activity++
		}
	})
	require.Equal(t, 5, activity, "the scrape holds every activity metric")
	systemID, _ := md.ResourceMetrics().At(0).Resource().Attributes().Get(contract.ResAttrSystemID)

	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			exp := startExporter(t, testExporterConfig(protocol, s), exportertest.NewNopSettings(ExporterType))
			require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

			snap, ok := s.Snapshot(systemID.Str())
			require.True(t, ok)
			assert.Len(t, snap.Rows, counts, "one row per resource count, none for the activity")
			for _, r := range snap.Rows {
				assert.NotContains(t, r.ResourceName, "login")
				assert.NotContains(t, r.ResourceName, "check")
			}
			for _, r := range s.Requests() {
				var m proto.Message = r.Counts
				if r.Base != nil {
					m = r.Base
				}
				wire, err := proto.Marshal(m)
				require.NoError(t, err)
				text, err := protojson.Marshal(m)
				require.NoError(t, err)
				for _, v := range []string{fakezitadel.SampleWebClient, fakezitadel.SampleAPIClient, fakezitadel.SampleSAMLEntity,
					"zitadel.logins", "zitadel.checks", "zitadel.lockouts", "zitadel.users.active", "milestone", "human-"} {
					assert.False(t, strings.Contains(string(wire), v) || strings.Contains(string(text), v),
						"%s request carries %q", r.Method, v)
				}
			}
		})
	}
}
