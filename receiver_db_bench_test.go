package zitadeltelemetry

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// benchShape is 1,000,000 resource_counts rows: 100 instances × 2,000
// organizations × 5 counts.
var benchShape = zitadeldbtest.CountsShape{Instances: 100, Organizations: 2000}

// BenchmarkDatabaseScrape compares a whole database scrape (rows to pmetric)
// with the bare read of the same pages, in the same run.
//
//	scripts/with-postgres.sh go test -run '^$' -bench DatabaseScrape -benchmem -benchtime 3x .
func BenchmarkDatabaseScrape(b *testing.B) {
	dsn := zitadeldbtest.SharedCounts(b, benchShape)
	rows := benchShape.Rows()

	b.Run("bare_read", func(b *testing.B) {
		zitadeldbtest.BareReadBenchmark(b, dsn, 10000, rows)
	})

	b.Run("scrape", func(b *testing.B) {
		cfg := createDefaultReceiverConfig().(*ReceiverConfig)
		cfg.Source = SourceDatabase
		cfg.Database.DSN = configopaque.String(dsn)
		s := testScraper(b, cfg, componenttest.NewNopTelemetrySettings())
		if err := s.start(context.Background(), componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = s.shutdown(context.Background()) }()

		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(context.Background())

		var peak, retained uint64
		var protoSize int
		var scrapeTime, bareTime time.Duration
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			// A bare read beside every scrape, outside the timer: a ratio of
			// neighbours holds up on a machine whose load changes.
			b.StopTimer()
			start := time.Now()
			if n, err := zitadeldbtest.BareRead(context.Background(), conn, 10000); err != nil || n != rows {
				b.Fatalf("read %d rows: %v", n, err)
			}
			bareTime += time.Since(start)
			base, stop := zitadeldbtest.HeapPeak()
			start = time.Now()
			b.StartTimer()
			md, err := s.scrape(context.Background())
			b.StopTimer()
			scrapeTime += time.Since(start)
			peak = max(peak, stop())
			if err != nil || md.DataPointCount() != rows {
				b.Fatalf("scraped %d points: %v", md.DataPointCount(), err)
			}
			runtime.GC()
			retained = max(retained, zitadeldbtest.HeapBytes()-base)
			protoSize = (&pmetric.ProtoMarshaler{}).MetricsSize(md)
			runtime.KeepAlive(md)
			b.StartTimer()
		}
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		b.ReportMetric(float64(protoSize)/1e6, "pmetric-proto-MB")
		b.ReportMetric(float64(retained)/1e6, "pmetric-heap-MB")
		b.ReportMetric(float64(peak)/float64(protoSize), "peak/proto")
		b.ReportMetric(float64(scrapeTime)/float64(bareTime), "scrape/bare")
	})
}
