package zitadeltelemetry

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// personalValues are e-mail-like and name-like values that a misconfigured
// pipeline could attach to the contract's metrics; none may reach a request.
// A contract field refuses them by shape, so each is placed only where its
// shape is refused: a lower-case word fits an id ("dave" may be a custom
// organization id) and "carol.smith" fits schema.table; hash_ids is the
// remedy for ids.
var personalValues = []string{"alice@example.com", "Bob Builder", "carol.smith", "Dave", "erin@corp.example"}

// withPersonalData adds personalValues everywhere outside the contract's own
// fields (resource, scope and point attributes, scope name and version, metric
// description and unit) and as contract fields where ZITADEL's shapes do not
// admit them, next to the valid rows of md.
func withPersonalData(md pmetric.Metrics) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		res := rm.Resource().Attributes()
		res.PutStr("user.email", personalValues[0])
		res.PutStr("user.name", personalValues[1])
		domains, _ := res.Get(contract.ResAttrDomains)
		domains.Slice().AppendEmpty().SetStr(personalValues[4])
		for j := range rm.ScopeMetrics().Len() {
			sm := rm.ScopeMetrics().At(j)
			sm.Scope().SetName(personalValues[2])
			sm.Scope().SetVersion(personalValues[3])
			sm.Scope().Attributes().PutStr("owner", personalValues[0])
			for k := range sm.Metrics().Len() {
				m := sm.Metrics().At(k)
				m.SetDescription("counted for " + personalValues[1])
				m.SetUnit(personalValues[4])
				m.Metadata().PutStr("contact", personalValues[0])
				points := m.Sum().DataPoints()
				for p := range points.Len() {
					points.At(p).Attributes().PutStr("enduser.id", personalValues[4])
				}
				misplaced := []struct{ key, value string }{
					{contract.AttrParentID, personalValues[0]},
					{contract.AttrParentID, personalValues[2]},
					{contract.AttrResourceName, personalValues[1]},
					{contract.AttrResourceName, personalValues[3]},
					{contract.AttrTableName, personalValues[4]},
					{contract.AttrTableName, personalValues[1]},
					{contract.AttrParentType, personalValues[3]},
				}
				for _, mp := range misplaced {
					dp := points.AppendEmpty()
					points.At(0).CopyTo(dp)
					dp.Attributes().PutStr(mp.key, mp.value)
				}
			}
		}
	}
}

// TestPersonalDataNeverReachesTheEndpoint sends a batch with personal data
// in every place over each wire: the valid counts arrive, and no request the
// endpoint received holds any of the values, in any field, known or not.
func TestPersonalDataNeverReachesTheEndpoint(t *testing.T) {
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			exp := startExporter(t, testExporterConfig(protocol, s), exportertest.NewNopSettings(ExporterType))
			md := testkit.ContractMetrics("sys-private", 2, 3, model.ResourceUser, model.ResourceProject)
			valid := md.DataPointCount()
			withPersonalData(md)

			err := exp.ConsumeMetrics(context.Background(), md)
			require.Error(t, err, "the misplaced values are refused with an error")
			for _, v := range personalValues {
				require.NotContains(t, err.Error(), v, "the refusal repeats the refused value")
			}
			snap, ok := s.Snapshot("sys-private")
			require.True(t, ok)
			require.Len(t, snap.Rows, valid)
			assertNoPersonalData(t, s.Requests())
		})
	}
}

func assertNoPersonalData(t *testing.T, reqs []telemetryserver.Request) {
	t.Helper()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		var m proto.Message = r.Counts
		if r.Base != nil {
			m = r.Base
		}
		wire, err := proto.Marshal(m) // keeps fields the endpoint did not know
		require.NoError(t, err)
		text, err := protojson.Marshal(m)
		require.NoError(t, err)
		for _, v := range personalValues {
			for _, form := range []string{v, strings.ToLower(v)} {
				require.NotContains(t, string(wire), form, "%s request", r.Method)
				require.NotContains(t, string(text), form, "%s request", r.Method)
			}
		}
	}
}
