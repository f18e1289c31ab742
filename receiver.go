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
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/drain"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/health"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/sharedsource"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
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
	handOff *drain.Stop
	logger  *zap.Logger
}

func (r *zitadelReceiver) Shutdown(ctx context.Context) error {
	r.scraper.stop()
	n, err := r.handOff.Shutdown(ctx, r.Metrics.Shutdown)
	if n > 0 {
		r.logger.Warn(fmt.Sprintf("Shutdown interrupted handing %d scrape(s) to a pipeline that had not taken them within %s; "+
			"their counts were dropped, the next start scrapes again", n, r.handOff.Drain))
	}
	return err
}

// handOffConsumer is the receiver's next consumer, cut short by the
// receiver's shutdown.
type handOffConsumer struct {
	consumer.Metrics
	stop *drain.Stop
}

// ConsumeMetrics hands on what a scrape read. The controller hands on a
// batch after every scrape, an empty one when the scrape failed before
// reading anything; that batch says nothing and is not handed on.
func (h handOffConsumer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	return h.stop.Run(ctx, func(ctx context.Context) error { return h.Metrics.ConsumeMetrics(ctx, md) })
}

var errShutdownHandOff = errors.New("the collector is shutting down: the scrape's counts were not handed on")

// zitadelScraper runs one source per scrape and turns what it records into the
// metric contract.
type zitadelScraper struct {
	cfg *ReceiverConfig
	set component.TelemetrySettings
	// source is shared with the receiver of the same id in a logs pipeline,
	// with the receiver's own metrics (sharedsource.Of).
	source  *sharedsource.Source
	started time.Time
	now     func() time.Time
	// host takes the receiver's health after each scrape.
	host component.Host
	// receiverID names the receiver in its own metrics, as scraperhelper's
	// `receiver` attribute does.
	receiverID string

	// stopping is cancelled when the receiver shuts down; it ends the
	// scrape in progress.
	stopping context.Context
	stop     context.CancelFunc
}

func newZitadelScraper(cfg *ReceiverConfig, set component.TelemetrySettings) (*zitadelScraper, error) {
	src, err := sharedSourceOf(cfg, set)
	if err != nil {
		return nil, err
	}
	stopping, stop := context.WithCancel(context.Background())
	return &zitadelScraper{cfg: cfg, set: set, source: src, now: time.Now, stopping: stopping, stop: stop}, nil
}

// sharedSourceOf is the source a metrics and a logs pipeline of one
// receiver id share, with its own metrics, made by whichever asks first.
func sharedSourceOf(cfg *ReceiverConfig, set component.TelemetrySettings) (*sharedsource.Source, error) {
	return sharedsource.Of(cfg, set, func(own *zitadelreceivermetadata.TelemetryBuilder) model.Source {
		return newSource(cfg, set, own)
	})
}

// newSource is the configured source.
func newSource(cfg *ReceiverConfig, set component.TelemetrySettings, own *zitadelreceivermetadata.TelemetryBuilder) model.Source {
	filter := model.NewResourceFilter(cfg.Resources)
	if cfg.Source == SourceDatabase {
		return zitadeldb.NewSource(&cfg.Database, cfg.Activity, filter, set, own)
	}
	return zitadelapi.NewSource(&cfg.API, cfg.Activity, filter, set, own)
}

func (s *zitadelScraper) start(ctx context.Context, host component.Host) error {
	s.started, s.host = s.now(), host
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
		// zitadel.resource.count is off: ZITADEL is not asked at all, so the
		// activity metrics, read in the same scrape, stay empty too.
		return pmetric.NewMetrics(), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()

	begun := s.now()
	b := contract.NewBuilder(s.started, begun, s.cfg.SystemID, s.cfg.Version)
	b.SwitchActivity(s.cfg.Metrics)
	err := s.source.Scrape(ctx, b)
	cancelled := s.stopping.Err() != nil
	outcome := scrapeOutcome(err, cancelled)
	s.recordDuration(ctx, begun, outcome)
	if cancelled {
		s.set.Logger.Info("Shutdown ended a scrape in progress; its counts were dropped, the next start scrapes again")
		return pmetric.NewMetrics(), errShutdownScrape
	}
	err = tlshint.Explain(err, sourceLink(s.cfg.Source))
	s.reportHealth(outcome, err)
	return s.cfg.ResourceAttributes.RemoveDisabled(b.Emit()), err
}

// reportHealth makes a scrape that read nothing a recoverable error of the
// receiver, which health_check and zpages show until a scrape reads again;
// a partial scrape's missing points are counted by scraperhelper instead.
func (s *zitadelScraper) reportHealth(outcome string, err error) {
	if outcome != "failed" {
		err = nil
	}
	health.Report(s.host, err)
}

var errShutdownScrape = errors.New("the collector is shutting down: scrape cancelled")

// scrapeOutcome says how a scrape ended. scraperhelper counts the points a
// partial scrape could not read, but a scrape that failed outright (ZITADEL
// unreachable, credentials refused) read nothing and shows in none of its
// counters: the outcome tells it apart, per receiver.
func scrapeOutcome(err error, cancelled bool) string {
	switch {
	case cancelled:
		return "cancelled"
	case err == nil:
		return "complete"
	case scrapererror.IsPartialScrapeError(err):
		return "partial"
	default:
		return "failed"
	}
}

func (s *zitadelScraper) recordDuration(ctx context.Context, started time.Time, outcome string) {
	s.source.Own.ZitadelReceiverScrapeDuration.Record(context.WithoutCancel(ctx), s.now().Sub(started).Seconds(),
		metric.WithAttributes(attribute.String("receiver", s.receiverID), attribute.String("source", s.cfg.Source),
			attribute.String("outcome", outcome)))
}

// sourceLink says how to fix a TLS failure of the connection to ZITADEL, in
// the keys of the source's block.
func sourceLink(source string) tlshint.Link {
	if source == SourceDatabase {
		return tlshint.Link{
			Name:       "ZITADEL's database",
			UnknownCA:  "set database::tls::ca_file to the CA that issued PostgreSQL's certificate",
			WrongHost:  "set database::endpoint to a name its certificate holds, or database::tls::mode: verify-ca, which checks the CA only",
			Plaintext:  "turn on ssl in PostgreSQL, or set database::tls::mode to prefer or disable",
			ClientCert: "set database::tls::cert_file and database::tls::key_file to a certificate PostgreSQL trusts",
		}
	}
	return tlshint.Link{
		Name:       "ZITADEL's API",
		UnknownCA:  "set api::tls::ca_file to the CA that issued ZITADEL's certificate",
		WrongHost:  "set api::endpoint to a name its certificate holds, or api::tls::server_name_override",
		Plaintext:  "set api::tls::insecure: true for a ZITADEL without TLS (ExternalSecure: false), or use its TLS port",
		ClientCert: "set api::tls::cert_file and api::tls::key_file to a certificate ZITADEL's proxy trusts",
	}
}

// setStorageOwner names this receiver to the source's storage client.
func (s *zitadelScraper) setStorageOwner(id component.ID) {
	if o, ok := s.source.Source.(interface{ SetStorageOwner(component.ID) }); ok {
		o.SetStorageOwner(id)
	}
}

// createLogsReceiver delivers the audit trail through the source a metrics
// pipeline of the same receiver id shares.
func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	rc := cfg.(*ReceiverConfig)
	src, err := sharedSourceOf(rc, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	events, ok := src.Source.(audittrail.Source)
	if !ok {
		return nil, fmt.Errorf("audit_log: source %q does not read ZITADEL's events", rc.Source)
	}
	return audittrail.NewReceiver(&rc.AuditLog, set, rc.Source, next, src, events), nil
}
