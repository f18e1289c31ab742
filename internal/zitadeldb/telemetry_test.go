package zitadeldb

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// TestRowsReadAreCounted: the rows counter grows by what each scrape read,
// per query.
func TestRowsReadAreCounted(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now(), "login.example.com")
	d.AddInstance(t, "i2", time.Now())
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1'), ('i1', 'o2');
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES ('i1', 'o1', 'u1', 1);`)
	cfg := dbConfig(d)
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	src := NewSource(cfg, activity.Config{}, nil, tel.NewTelemetrySettings())
	require.NoError(t, src.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

	first := scrape(t, src)
	second := scrape(t, src)
	require.NotEmpty(t, first.counts)

	m, err := tel.GetMetric(MetricRowsRead)
	require.NoError(t, err)
	byQuery := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		q, _ := dp.Attributes.Value("query")
		byQuery[q.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{
		queryInstances:      int64(len(first.instances) + len(second.instances)),
		queryResourceCounts: int64(len(first.counts) + len(second.counts)),
	}, byQuery)
	assert.Equal(t, int64(2*2), byQuery[queryInstances])
}
