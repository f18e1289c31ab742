package zitadeltelemetryreceiver

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// TestInstanceInfoSortsTheDomains: ZITADEL's service ping sends an
// instance's domains in its own order (the generated domain first) without a
// primary flag; the receiver emits them sorted, the one order the zitadel
// receiver's sources give too (TestSourcesOrderDomainsAlike), so one
// instance is one label value whichever way it came.
func TestInstanceInfoSortsTheDomains(t *testing.T) {
	zitadelOrder := []string{"id1-abc.zitadel.example.com", "login.zz.example.com", "auth.example.com"}
	base := &analytics.ReportBaseInformationRequest{
		SystemId: "s", Version: "v4.13.1",
		Instances: []*analytics.InstanceInformation{{Id: "i1", Domains: zitadelOrder}},
	}
	md := instanceInfoMetrics(base, time.Now(), time.Now())
	require.Equal(t, 1, md.ResourceMetrics().Len())
	v, ok := md.ResourceMetrics().At(0).Resource().Attributes().Get(contract.ResAttrDomains)
	require.True(t, ok)
	var got []string
	for _, d := range v.Slice().All() {
		got = append(got, d.Str())
	}
	assert.Equal(t, slices.Sorted(slices.Values(zitadelOrder)), got)
}
