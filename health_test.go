package zitadeltelemetry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// TestScrapeHealth: a scrape that reaches ZITADEL leaves the receiver OK; one
// that reads nothing (ZITADEL gone) makes it a recoverable error with the
// scrape's error, which the collector's health shows.
func TestScrapeHealth(t *testing.T) {
	srv := startFakeZitadel(t)
	cfg := apiReceiverConfig(srv)
	cfg.API.Retry.InitialInterval, cfg.API.Retry.MaxInterval = time.Millisecond, time.Millisecond
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	host := &testkit.StatusHost{}
	require.NoError(t, s.start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	_, err := s.scrape(t.Context())
	require.NoError(t, err)
	srv.Close()
	_, scrapeErr := s.scrape(t.Context())
	require.Error(t, scrapeErr)

	assert.Equal(t, []componentstatus.Status{componentstatus.StatusOK, componentstatus.StatusRecoverableError}, host.Statuses())
	assert.Equal(t, scrapeErr, host.Events()[1].Err())
}

// TestReportHealth: a batch the endpoint refuses makes the exporter a
// recoverable error; the next one it takes makes it OK again.
func TestReportHealth(t *testing.T) {
	s := startTelemetryServer(t)
	exp, err := NewExporterFactory().CreateMetrics(t.Context(), exportertest.NewNopSettings(ExporterType), testExporterConfig(ProtocolHTTP, s))
	require.NoError(t, err)
	host := &testkit.StatusHost{}
	require.NoError(t, exp.Start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })

	md := testkit.ContractMetrics("sys-1", 1, 2, model.ResourceUser)
	s.Fail(1, codes.Unavailable)
	require.Error(t, exp.ConsumeMetrics(t.Context(), md))
	require.NoError(t, exp.ConsumeMetrics(t.Context(), md))

	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, host.Statuses())
	assert.ErrorContains(t, host.Events()[0].Err(), "ReportBaseInformation")
}
