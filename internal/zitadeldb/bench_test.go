package zitadeldb

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// discard counts what it is given and keeps nothing.
type discard struct{ counts, instances int }

func (d *discard) RecordInstance(model.Instance) { d.instances++ }
func (d *discard) RecordCount(model.Count)       { d.counts++ }

// BenchmarkReadCounts is the source alone, without the metric builder,
// beside the bare read of the same 1,000,000 rows.
//
//	scripts/with-postgres.sh go test -run '^$' -bench ReadCounts -benchmem -benchtime 3x ./internal/zitadeldb
func BenchmarkReadCounts(b *testing.B) {
	shape := zitadeldbtest.CountsShape{Instances: 100, Organizations: 2000}
	dsn := zitadeldbtest.SharedCounts(b, shape)

	b.Run("bare_read", func(b *testing.B) {
		zitadeldbtest.BareReadBenchmark(b, dsn, defaultPageSize, shape.Rows())
	})

	b.Run("source", func(b *testing.B) {
		cfg := NewDefaultConfig()
		cfg.DSN = configopaque.String(dsn)
		src := NewSource(&cfg, activity.Config{}, nil, componenttest.NewNopTelemetrySettings())
		if err := src.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = src.Shutdown(context.Background()) }()
		b.ReportAllocs()
		for b.Loop() {
			rec := &discard{}
			if err := src.Scrape(context.Background(), rec); err != nil || rec.counts != shape.Rows() {
				b.Fatalf("read %d rows: %v", rec.counts, err)
			}
		}
	})
}
