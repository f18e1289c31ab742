package zitadeltelemetry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

// zitadelReceiver is the scraper controller with a shutdown that does not
// wait for a scrape in progress: the controller waits for it to end before
// shutting its scrapers down, and a hanging ZITADEL would hold the
// collector's stop for the whole request timeout. Nor does it wait long for
// the pipeline: without a sending queue the exporter sends, and retries for
// up to minutes, inside the controller's hand-off, while the collector stops
// exporters only after their receivers.
type zitadelReceiver struct {
	receiver.Metrics
	scraper *zitadelScraper
	handOff *drainingStop
	logger  *zap.Logger
}

func (r *zitadelReceiver) Shutdown(ctx context.Context) error {
	r.scraper.stop()
	n, err := r.handOff.shutdown(ctx, r.Metrics.Shutdown)
	if n > 0 {
		r.logger.Warn(fmt.Sprintf("Shutdown interrupted handing %d scrape(s) to a pipeline that had not taken them within %s; "+
			"their counts were dropped, the next start scrapes again", n, r.handOff.drain))
	}
	return err
}

// handOffConsumer is the receiver's next consumer, cut short by the
// receiver's shutdown.
type handOffConsumer struct {
	consumer.Metrics
	stop *drainingStop
}

func (h handOffConsumer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return h.stop.run(ctx, func(ctx context.Context) error { return h.Metrics.ConsumeMetrics(ctx, md) })
}

var errShutdownHandOff = errors.New("the collector is shutting down: the scrape's counts were not handed on")

// zitadelScraper runs one source per scrape and turns what it records into the
// metric contract.
type zitadelScraper struct {
	cfg     *ReceiverConfig
	set     component.TelemetrySettings
	source  model.Source
	started time.Time
	now     func() time.Time
	// duration is created at start: instruments can fail, a constructor cannot.
	duration metric.Float64Histogram
	// receiverID names the receiver in its own metrics, as scraperhelper's
	// `receiver` attribute does.
	receiverID string

	// stopping is cancelled when the receiver shuts down; it ends the
	// scrape in progress.
	stopping context.Context
	stop     context.CancelFunc
}

func newZitadelScraper(cfg *ReceiverConfig, set component.TelemetrySettings) *zitadelScraper {
	filter := model.NewResourceFilter(cfg.Resources)
	var src model.Source
	switch cfg.Source {
	case SourceDatabase:
		src = zitadeldb.NewSource(&cfg.Database, filter, set)
	default:
		src = zitadelapi.NewSource(&cfg.API, filter, set)
	}
	stopping, stop := context.WithCancel(context.Background())
	return &zitadelScraper{cfg: cfg, set: set, source: src, now: time.Now, stopping: stopping, stop: stop}
}

func (s *zitadelScraper) start(ctx context.Context, host component.Host) error {
	s.started = s.now()
	var err error
	if s.duration, err = newScrapeDuration(s.set); err != nil {
		return err
	}
	return s.source.Start(ctx, host)
}

func (s *zitadelScraper) shutdown(ctx context.Context) error {
	s.stop()
	return s.source.Shutdown(ctx)
}

// scrape returns whatever the source recorded, also on a partial error, so one
// failing organization never hides the others. A scrape cut short by shutdown
// returns nothing: its counts would be an incomplete report.
func (s *zitadelScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	if s.stopping.Err() != nil {
		return pmetric.NewMetrics(), errShutdownScrape
	}
	if !s.cfg.Metrics.ZitadelResourceCount.Enabled {
		// The receiver's only metric is off: ZITADEL is not asked at all.
		return pmetric.NewMetrics(), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()

	begun := s.now()
	b := newMetricsBuilder(s.started, begun, s.cfg.SystemID, s.cfg.Version)
	b.activity = s.cfg.Metrics
	err := s.source.Scrape(ctx, b)
	cancelled := s.stopping.Err() != nil
	s.recordDuration(ctx, begun, scrapeOutcome(err, cancelled))
	if cancelled {
		s.set.Logger.Info("Shutdown ended a scrape in progress; its counts were dropped, the next start scrapes again")
		return pmetric.NewMetrics(), errShutdownScrape
	}
	return s.cfg.ResourceAttributes.removeDisabled(b.emit()), tlshint.Explain(err, sourceLink(s.cfg.Source))
}

var errShutdownScrape = errors.New("the collector is shutting down: scrape cancelled")
