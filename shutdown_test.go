package zitadeltelemetry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/schedule"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// A report stuck on an endpoint that never answers must not hold the
// collector's stop for the exporter's one-minute timeout: shutdown gives it
// the drain period, then cancels it and says so once.
func TestShutdownInterruptsAReportTheEndpointNeverAnswers(t *testing.T) {
	url, received := faults.SilentEndpoint(t)
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	cfg.Endpoint = url
	require.Equal(t, time.Minute, cfg.Timeout)

	core, logs := observer.New(zapcore.InfoLevel)
	set := exportertest.NewNopSettings(ExporterType)
	set.Logger = zap.New(core)
	exp, err := NewExporterFactory().CreateMetrics(t.Context(), set, cfg)
	require.NoError(t, err)
	exp.(*stoppableExporter).exporter.sends.Drain = 50 * time.Millisecond
	require.NoError(t, exp.Start(t.Context(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeMetrics(t.Context(), testkit.ContractMetrics("sys-1", 1, 1, model.ResourceUser)))
	<-received

	testkit.StopsWithin(t, cfg.Timeout/2, exp.Shutdown, "shutdown waited for the report's timeout")
	warnings := logs.FilterMessageSnippet("Shutdown interrupted 1 report(s)").All()
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0].Message, "they are lost: configure sending_queue::storage")
}

// With an endpoint that answers, shutdown still delivers what is queued.
func TestShutdownDeliversWhatTheEndpointTakes(t *testing.T) {
	s := startTelemetryServer(t)
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	cfg.Endpoint = s.HTTPURL()
	exp, err := NewExporterFactory().CreateMetrics(t.Context(), exportertest.NewNopSettings(ExporterType), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(t.Context(), componenttest.NewNopHost()))
	for i := range 3 {
		require.NoError(t, exp.ConsumeMetrics(t.Context(), testkit.ContractMetrics("sys-"+string(rune('a'+i)), 1, 2, model.ResourceUser)))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	for _, id := range []string{"sys-a", "sys-b", "sys-c"} {
		snap, ok := s.Snapshot(id)
		require.True(t, ok, id)
		assert.Len(t, snap.Rows, 2, id)
	}
}

// A ZITADEL that never answers must not hold the collector's stop for the
// receiver's request timeout; the cut scrape's partial counts are not
// emitted, since they would make an incomplete report.
func TestShutdownEndsAScrapeInProgress(t *testing.T) {
	srv := startFakeZitadel(t)
	srv.SetLatency(time.Hour)
	cfg := apiReceiverConfig(srv)
	require.Greater(t, cfg.API.RequestTimeout, 10*time.Second)
	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return srv.TotalCalls() > 0 }, 10*time.Second, 5*time.Millisecond)

	testkit.StopsWithin(t, cfg.API.RequestTimeout/2, rcv.Shutdown, "shutdown waited for the request timeout")
	assert.Zero(t, sink.DataPointCount())
}

// Without a sending queue the exporter sends, and retries for minutes, inside
// the receiver's hand-off, and the collector stops exporters only after their
// receivers: the receiver's shutdown gives the hand-off the drain period,
// then cancels it and says so once.
func TestShutdownInterruptsAHandOffToAPipelineWithoutQueue(t *testing.T) {
	url, received := faults.SilentEndpoint(t)
	ecfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	ecfg.Endpoint = url
	ecfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	require.True(t, ecfg.RetryConfig.Enabled)
	exp, err := NewExporterFactory().CreateMetrics(t.Context(), exportertest.NewNopSettings(ExporterType), ecfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })

	core, logs := observer.New(zapcore.InfoLevel)
	set := receivertest.NewNopSettings(ReceiverType)
	set.Logger = zap.New(core)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), set, apiReceiverConfig(startFakeZitadel(t)), exp)
	require.NoError(t, err)
	rcv.(*zitadelReceiver).handOff.Drain = 50 * time.Millisecond
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	<-received // the scrape is done; its report hangs in the exporter

	testkit.StopsWithin(t, ecfg.Timeout/2, rcv.Shutdown, "the receiver's shutdown waited for the exporter's sends")
	warnings := logs.FilterMessageSnippet("Shutdown interrupted handing 1 scrape(s)").All()
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0].Message, "the next start scrapes again")
}

// send_on_shutdown without a sending queue sends the report inside the
// exporter's shutdown; an endpoint that never answers gets the drain period.
func TestSendOnShutdownToAnEndpointThatNeverAnswers(t *testing.T) {
	url, received := faults.SilentEndpoint(t)
	cfg := scheduledConfig(startTelemetryServer(t))
	cfg.Endpoint = url
	cfg.SendOnShutdown = true
	cfg.RetryConfig.Enabled = true
	require.Equal(t, time.Minute, cfg.Timeout)
	exp := startScheduled(t, cfg, exportertest.NewNopSettings(ExporterType), newFakeClock(scheduleStart), testkit.ExtensionsHost{})
	exp.(*schedule.Exporter).Metrics.(*stoppableExporter).exporter.sends.Drain = 50 * time.Millisecond
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics(scheduledSystem, 2, 3, model.ResourceUser)))

	testkit.StopsWithin(t, cfg.Timeout/2, exp.Shutdown, "shutdown waited for the report's timeout")
	select {
	case <-received:
	default:
		t.Fatal("the report was not sent on shutdown")
	}
}
