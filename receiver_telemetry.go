package zitadeltelemetry

import (
	"context"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// metricScrapeDuration names the `zitadel` receiver's own histogram of scrape
// times; the API calls and database rows are counted by the sources.
const metricScrapeDuration = "otelcol_zitadel_receiver_scrape_duration"

// newScrapeDuration is the histogram of whole scrapes by receiver, source
// and outcome. Buckets span a database page read (milliseconds) to an API
// scrape of a large installation (minutes).
func newScrapeDuration(set component.TelemetrySettings) (metric.Float64Histogram, error) {
	return set.MeterProvider.Meter(contract.ScopeName).Float64Histogram(metricScrapeDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Time the zitadel receiver took for one scrape, by receiver, source (api or database) and outcome "+
			"(complete, partial, failed, cancelled)."),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900))
}

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
	s.duration.Record(context.WithoutCancel(ctx), s.now().Sub(started).Seconds(),
		metric.WithAttributes(attribute.String("receiver", s.receiverID), attribute.String("source", s.cfg.Source),
			attribute.String("outcome", outcome)))
}
