package zitadeltelemetry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
)

// steppingClock advances by step on every reading.
type steppingClock struct {
	t    time.Time
	step time.Duration
}

func (c *steppingClock) now() time.Time {
	c.t = c.t.Add(c.step)
	return c.t
}

// TestScrapeDurationIsRecordedBySource: each scrape is one observation of
// the time between its start and end on the scraper's clock, and the api
// source's calls appear beside it.
func TestScrapeDurationIsRecordedBySource(t *testing.T) {
	srv := startFakeZitadel(t)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	s := newZitadelScraper(apiReceiverConfig(srv), tel.NewTelemetrySettings())
	clk := &steppingClock{t: time.Unix(1_700_000_000, 0), step: 1500 * time.Millisecond}
	s.now = clk.now
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	for range 2 {
		_, err := s.scrape(t.Context())
		require.NoError(t, err)
	}

	m, err := tel.GetMetric(metricScrapeDuration)
	require.NoError(t, err)
	points := m.Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, points, 1)
	source, _ := points[0].Attributes.Value("source")
	assert.Equal(t, SourceAPI, source.AsString())
	assert.Equal(t, uint64(2), points[0].Count)
	assert.InDelta(t, 2*1.5, points[0].Sum, 1e-9)

	calls, err := tel.GetMetric(zitadelapi.MetricAPICalls)
	require.NoError(t, err)
	var n int64
	for _, dp := range calls.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	assert.Equal(t, srv.TotalCalls(), n)
}
