package zitadeltelemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/sharedsource"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
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
	cfg := apiReceiverConfig(srv)
	cfg.API.Retry.InitialInterval, cfg.API.Retry.MaxInterval = time.Millisecond, time.Millisecond
	s := testScraper(t, cfg, tel.NewTelemetrySettings())
	clk := &steppingClock{t: time.Unix(1_700_000_000, 0), step: 1500 * time.Millisecond}
	s.now = clk.now
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	s.receiverID = "zitadel/edge"
	for range 2 {
		_, err := s.scrape(t.Context())
		require.NoError(t, err)
	}
	calls := srv.TotalCalls()
	srv.Close() // ZITADEL is gone: the next scrape reads nothing
	_, err := s.scrape(t.Context())
	require.Error(t, err)

	m, err := tel.GetMetric("otelcol_zitadel_receiver_scrape_duration")
	require.NoError(t, err)
	byOutcome := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		source, _ := dp.Attributes.Value("source")
		assert.Equal(t, SourceAPI, source.AsString())
		receiver, _ := dp.Attributes.Value("receiver")
		assert.Equal(t, "zitadel/edge", receiver.AsString())
		outcome, _ := dp.Attributes.Value("outcome")
		byOutcome[outcome.AsString()] = dp
	}
	require.Len(t, byOutcome, 2)
	assert.Equal(t, uint64(2), byOutcome["complete"].Count)
	assert.InDelta(t, 2*1.5, byOutcome["complete"].Sum, 1e-9)
	assert.Equal(t, uint64(1), byOutcome["failed"].Count, "a scrape that read nothing is counted too")

	apiCalls, err := tel.GetMetric("otelcol_zitadel_receiver_api_calls")
	require.NoError(t, err)
	var n int64
	for _, dp := range apiCalls.Data.(metricdata.Sum[int64]).DataPoints {
		code, _ := dp.Attributes.Value("code")
		if code.AsString() == "OK" {
			n += dp.Value
		}
	}
	assert.Equal(t, calls, n)
}

func TestScrapeOutcome(t *testing.T) {
	assert.Equal(t, "complete", scrapeOutcome(nil, false))
	assert.Equal(t, "partial", scrapeOutcome(scrapererror.NewPartialScrapeError(errors.New("one organization"), 1), false))
	assert.Equal(t, "failed", scrapeOutcome(errors.New("connection refused"), false))
	assert.Equal(t, "cancelled", scrapeOutcome(errors.New("context canceled"), true))
}

// testScraper is the receiver's scraper on set, without its controller.
func testScraper(tb testing.TB, cfg *ReceiverConfig, set component.TelemetrySettings) *zitadelScraper {
	tb.Helper()
	s, err := newZitadelScraper(cfg, set)
	require.NoError(tb, err)
	return s
}

// TestOneTelemetryBuilderPerReceiverID: one receiver id in a metrics and a
// logs pipeline counts its own work with one TelemetryBuilder, the one its
// shared source counts with, whichever pipeline the collector creates first.
func TestOneTelemetryBuilderPerReceiverID(t *testing.T) {
	for _, logsFirst := range []bool{false, true} {
		cfg := createDefaultReceiverConfig().(*ReceiverConfig)
		cfg.API.Endpoint = "localhost:1"
		set := receivertest.NewNopSettings(ReceiverType)
		f := NewReceiverFactory()
		var (
			metrics receiver.Metrics
			logs    receiver.Logs
			err     error
		)
		if logsFirst {
			logs, err = f.CreateLogs(t.Context(), set, cfg, new(consumertest.LogsSink))
			require.NoError(t, err)
		}
		metrics, err = f.CreateMetrics(t.Context(), set, cfg, new(consumertest.MetricsSink))
		require.NoError(t, err)
		if !logsFirst {
			logs, err = f.CreateLogs(t.Context(), set, cfg, new(consumertest.LogsSink))
			require.NoError(t, err)
		}
		scraper := metrics.(*zitadelReceiver).scraper
		src, err := sharedsource.Of(cfg, set.TelemetrySettings, func(*zitadelreceivermetadata.TelemetryBuilder) model.Source {
			t.Fatal("the pipelines' receivers made no shared source")
			return nil
		})
		require.NoError(t, err)
		assert.Same(t, src, scraper.source, "logs first: %v", logsFirst)
		assert.Same(t, src.Own, scraper.source.Own, "logs first: %v", logsFirst)
		require.NoError(t, logs.Shutdown(context.Background()))
		require.NoError(t, metrics.Shutdown(context.Background()))
		held, _ := sharedsource.Held(cfg)
		assert.False(t, held)
	}
}
