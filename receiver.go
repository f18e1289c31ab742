package zitadeltelemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
)

// zitadelScraper runs one source per scrape and turns what it records into the
// metric contract.
type zitadelScraper struct {
	cfg     *ReceiverConfig
	source  model.Source
	started time.Time
	now     func() time.Time
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
	return &zitadelScraper{cfg: cfg, source: src, now: time.Now}
}

func (s *zitadelScraper) start(ctx context.Context, host component.Host) error {
	s.started = s.now()
	return s.source.Start(ctx, host)
}

func (s *zitadelScraper) shutdown(ctx context.Context) error {
	return s.source.Shutdown(ctx)
}

// scrape returns whatever the source recorded, also on a partial error, so one
// failing organization never hides the others.
func (s *zitadelScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	b := newMetricsBuilder(s.started, s.now(), s.cfg.SystemID, s.cfg.Version)
	err := s.source.Scrape(ctx, b)
	return b.emit(), err
}
