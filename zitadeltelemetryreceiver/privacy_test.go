package zitadeltelemetryreceiver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
)

// emittedStrings lists every string attribute value the metrics carry,
// resource and data point attributes alike, slices included.
func emittedStrings(all []pmetric.Metrics) []string {
	var out []string
	add := func(m pcommon.Map) {
		for _, v := range m.All() {
			if v.Type() == pcommon.ValueTypeSlice {
				for i := range v.Slice().Len() {
					out = append(out, v.Slice().At(i).AsString())
				}
				continue
			}
			out = append(out, v.AsString())
		}
	}
	for _, md := range all {
		for i := range md.ResourceMetrics().Len() {
			rm := md.ResourceMetrics().At(i)
			add(rm.Resource().Attributes())
			for j := range rm.ScopeMetrics().Len() {
				ms := rm.ScopeMetrics().At(j).Metrics()
				for k := range ms.Len() {
					m := ms.At(k)
					var points pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeSum:
						points = m.Sum().DataPoints()
					case pmetric.MetricTypeGauge:
						points = m.Gauge().DataPoints()
					}
					for p := range points.Len() {
						add(points.At(p).Attributes())
					}
				}
			}
		}
	}
	return out
}

// With drop_domains and id_hash_key, no domain and no original id leaves the
// receiver; every id is the keyed hash, alike in the instance information
// and in the counts, so the two still join.
func TestPrivacySwitchesActBeforeAnythingIsEmitted(t *testing.T) {
	key := strings.Repeat("k", idhash.MinKeyBytes)
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *Config) {
		c.DropDomains = true
		c.IDHashKey = configopaque.String(key)
	})
	base, rows := contracttest.Report("system-p", 3, 20)
	require.NoError(t, u.pingClient().Report(context.Background(), base, rows, 25))

	hash := func(id string) string {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(id))
		return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	emitted := emittedStrings(sink.AllMetrics())
	require.NotEmpty(t, emitted)
	joined := strings.Join(emitted, "\n")
	original := []string{base.SystemId}
	for _, in := range base.Instances {
		original = append(original, in.Id)
		for _, d := range in.Domains {
			assert.NotContains(t, joined, d, "a domain was emitted")
		}
	}
	for _, rc := range rows {
		original = append(original, rc.ParentId)
	}
	for _, id := range original {
		for _, v := range emitted {
			assert.NotEqual(t, id, v, "an original id was emitted")
		}
		assert.Contains(t, emitted, hash(id), "the keyed hash of %s is emitted", id)
		assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, hash(id))
	}
	assert.Equal(t, len(rows)+len(base.Instances), sink.DataPointCount(), "every row and every instance, once")
}
