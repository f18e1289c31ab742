package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// TestMaxBulkSizeFitsOneMessage proves the bound bulk_size is validated
// against: the worst page the mapping can build (every field at its limit,
// the largest timestamp pdata can hold, the largest amount) fits 4 MiB with
// fieldshape.MaxBulkSize rows and would not with one more.
func TestMaxBulkSizeFitsOneMessage(t *testing.T) {
	worst := &analytics.ResourceCount{
		InstanceId:   strings.Repeat("i", fieldshape.MaxIDBytes),
		ParentType:   analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		ParentId:     strings.Repeat("p", fieldshape.MaxIDBytes),
		ResourceName: strings.Repeat("r", fieldshape.MaxResourceNameBytes),
		TableName:    strings.Repeat("t", fieldshape.MaxTableNameBytes),
		UpdatedAt:    timestamppb.New(pcommon.Timestamp(math.MaxInt64).AsTime()),
		Amount:       math.MaxUint32,
	}
	require.Equal(t, fieldshape.WorstRowBytes, proto.Size(worst), "the worst-case row formula")

	reportID := strings.Repeat("r", fieldshape.MaxReportIDBytes)
	page := &analytics.ReportResourceCountsRequest{SystemId: strings.Repeat("s", fieldshape.MaxSystemIDBytes), ReportId: &reportID}
	for range fieldshape.MaxBulkSize {
		page.ResourceCounts = append(page.ResourceCounts, worst)
	}
	assert.LessOrEqual(t, proto.Size(page), fieldshape.MaxMessageBytes)
	page.ResourceCounts = append(page.ResourceCounts, worst)
	assert.Greater(t, proto.Size(page), fieldshape.MaxMessageBytes)
	assert.GreaterOrEqual(t, fieldshape.MaxBulkSize, fieldshape.DefaultBulkSize, "ZITADEL's default must be allowed")
}

func TestReportBuilderSharesTimestampsAndKeepsOrder(t *testing.T) {
	md := testkit.ContractMetrics("sys-1", 2, 3, model.ResourceUser, model.ResourceProject)
	built := (&Builder{sendDomains: true}).Build(md)
	require.Len(t, built.systems, 1)
	rows := built.systems[0].rows
	require.Len(t, rows, 12)
	for _, rc := range rows[1:] {
		assert.Same(t, rows[0].UpdatedAt, rc.UpdatedAt, "rows testkit.Observed together share one timestamp")
	}
	assert.Equal(t, []int{0, 1}, built.systems[0].resources)
	assert.Equal(t, 0, built.rejected)
	assert.Equal(t, 0, built.ignored.Count())
	assert.Len(t, built.systems[0].Pages(5), 3)
}

func TestReportBuilderCountsIgnoredMetrics(t *testing.T) {
	md := testkit.ContractMetrics("sys-1", 1, 1, model.ResourceUser)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	ms.AppendEmpty().SetName("http.server.duration")
	ms.AppendEmpty().SetName(contract.MetricResourceCount) // no data: neither a sum nor a gauge
	built := (&Builder{}).Build(md)
	assert.Equal(t, 2, built.ignored.Count())
	assert.Equal(t, []string{"http.server.duration", contract.MetricResourceCount}, built.ignored.Listed())
	assert.Len(t, built.systems[0].rows, 1)
}

// forbidden marks every value the metrics carry outside the contract.
const forbidden = "zz-not-on-the-allow-list-zz"

// FuzzReportBuilder feeds arbitrary values through the contract's attributes
// next to attributes outside it. Nothing may panic, every request must be
// encodable, and no value outside the allow-list (nor a domain when domains
// are off) may appear in what would be sent.
func FuzzReportBuilder(f *testing.F) {
	f.Add("sys-1", "v4.2.0", "100000000000000001", "acme.example.com", "2025-01-02T03:04:05Z", "user", "organization",
		"200000000000000001", "projections.users14", int64(42), 0.0, false, uint64(1748779200000000000), "host.name", "alice@example.com", true)
	f.Add("", "", "", "", "", "", "", "", "", int64(-1), math.NaN(), true, uint64(0), "", "", false)
	f.Add("s\x00", "\xff", "i\"d", "\xfe", "not a date", strings.Repeat("r", 64), "instance",
		"p\\", "t\n", int64(math.MaxUint32+1), 4294967295.0, true, uint64(math.MaxUint64), "zitadel.parent.id", "x", true)
	f.Fuzz(func(t *testing.T, systemID, version, instanceID, domain, created, resource, parentType, parentID, table string,
		amount int64, double float64, useDouble bool, ts uint64, extraKey, extraValue string, sendDomains bool,
	) {
		for _, s := range []string{systemID, version, instanceID, domain, created, resource, parentType, parentID, table} {
			if strings.Contains(s, forbidden) || strings.Contains(s, "zz-domain") {
				t.Skip("the markers must only come from outside the allow-list")
			}
		}
		extraKey = "x." + extraKey // never one of the contract's keys
		secret := forbidden + extraValue
		domain = "zz-domain" + domain

		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		attrs := rm.Resource().Attributes()
		attrs.PutStr(contract.ResAttrSystemID, systemID)
		attrs.PutStr(contract.ResAttrVersion, version)
		attrs.PutStr(contract.ResAttrInstanceID, instanceID)
		attrs.PutEmptySlice(contract.ResAttrDomains).AppendEmpty().SetStr(domain)
		attrs.PutStr(contract.ResAttrCreationDate, created)
		attrs.PutStr(extraKey, secret)
		attrs.PutStr("zitadel.instance.name", secret)
		rm.SetSchemaUrl(secret)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(secret)
		m := sm.Metrics().AppendEmpty()
		m.SetName(contract.MetricResourceCount)
		m.SetDescription(secret)
		m.SetUnit(secret)
		dp := m.SetEmptySum().DataPoints().AppendEmpty()
		if useDouble {
			dp.SetDoubleValue(double)
		} else {
			dp.SetIntValue(amount)
		}
		dp.SetTimestamp(pcommon.Timestamp(ts))
		dp.SetStartTimestamp(pcommon.Timestamp(ts / 2))
		dp.Attributes().PutStr(contract.AttrResourceName, resource)
		dp.Attributes().PutStr(contract.AttrParentType, parentType)
		dp.Attributes().PutStr(contract.AttrParentID, parentID)
		dp.Attributes().PutStr(contract.AttrTableName, table)
		dp.Attributes().PutStr(extraKey, secret)
		dp.Attributes().PutStr("user.email", secret)
		dp.Exemplars().AppendEmpty().FilteredAttributes().PutStr("k", secret)
		other := sm.Metrics().AppendEmpty()
		other.SetName(secret)
		other.SetEmptyGauge().DataPoints().AppendEmpty().Attributes().PutStr(contract.AttrParentID, secret)

		built := (&Builder{systemID: "fallback", version: "v0", sendDomains: sendDomains}).Build(md)
		if len(built.systems) > 0 {
			assert.Equal(t, 1, built.ignored.Count())
		}
		var wire bytes.Buffer
		for _, sr := range built.systems {
			b, err := proto.Marshal(sr.base)
			require.NoError(t, err, "base information must be encodable")
			wire.Write(b)
			j, err := protojson.Marshal(sr.base)
			require.NoError(t, err)
			wire.Write(j)
			for _, page := range sr.Pages(1) {
				req := &analytics.ReportResourceCountsRequest{SystemId: sr.systemID, ResourceCounts: page}
				b, err := proto.Marshal(req)
				require.NoError(t, err, "every page must be encodable")
				assert.LessOrEqual(t, len(b), fieldshape.MaxMessageBytes)
				wire.Write(b)
				wire.Write(telemetryclient.AppendResourceCountsJSON(nil, req))
				for _, rc := range page {
					assert.LessOrEqual(t, len(rc.InstanceId), fieldshape.MaxIDBytes)
					assert.LessOrEqual(t, len(rc.ParentId), fieldshape.MaxIDBytes)
					// Only rows a strict endpoint accepts, in ZITADEL's shapes.
					assert.NotEqual(t, analytics.CountParentType_COUNT_PARENT_TYPE_UNSPECIFIED, rc.ParentType)
					assert.NotNil(t, rc.UpdatedAt)
					// Written out here, not taken from internal/fieldshape, so that a
					// check loosened there fails this test.
					assert.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, rc.InstanceId)
					assert.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, rc.ParentId)
					assert.Regexp(t, `^[a-z][a-z0-9_]{0,62}$`, rc.ResourceName)
					if rc.TableName != "" {
						assert.Regexp(t, `^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$`, rc.TableName)
					}
					if useDouble {
						assert.Equal(t, double, float64(rc.Amount))
					} else {
						assert.Equal(t, amount, int64(rc.Amount))
					}
				}
			}
		}
		assert.NotContains(t, wire.String(), forbidden)
		assert.NotContains(t, wire.String(), "@", "no field admits an e-mail address")
		if !sendDomains {
			assert.NotContains(t, wire.String(), "zz-domain")
		}
		rows := 0
		for _, sr := range built.systems {
			rows += len(sr.rows)
		}
		assert.LessOrEqual(t, rows, 1)
		if rows == 0 {
			assert.True(t, built.rejected > 0 || built.withoutSystem > 0, "a dropped count is always accounted for")
		}
	})
}

// A row without updated_at is one a strict endpoint refuses, and with it the
// whole page: it is left out and counted instead.
func TestTimestampOfZeroIsLeftOut(t *testing.T) {
	md := testkit.ContractMetrics("sys-1", 1, 2, model.ResourceUser)
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).SetTimestamp(0)
	built := (&Builder{}).Build(md)
	require.Len(t, built.systems[0].rows, 1)
	assert.NotNil(t, built.systems[0].rows[0].UpdatedAt)
	assert.Equal(t, 1, built.rejected)
	assert.Contains(t, built.problems.Listed()[0], "the data point has no time")
}
