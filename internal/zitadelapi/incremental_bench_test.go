package zitadelapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// BenchmarkIncrementalScrape10kOrgs changes 1 % of 10,000 organizations
// (100 writes, one per organization) between scrapes and measures the
// incremental scrape that follows, against the fake ZITADEL in this process:
// its calls next to the full scrape's (both counted in the same run), and its
// wall time without a rate cap and at ZITADEL Cloud's budget of 40 requests
// per second. Run it with -benchtime=1x; each iteration is one scrape.
func BenchmarkIncrementalScrape10kOrgs(b *testing.B) {
	const orgs, changed = 10000, 100
	for _, rps := range []float64{0, 40} {
		b.Run(fmt.Sprintf("requests_per_second=%g", rps), func(b *testing.B) {
			srv := fakezitadel.NewServer(fakezitadel.Generate(benchSpec(orgs)), fakezitadel.Options{PATs: map[string]string{testPAT: ""}})
			if err := srv.Start("127.0.0.1:0", ""); err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cfg := NewDefaultConfig()
			cfg.Endpoint = srv.GRPCAddr()
			cfg.TLS.Insecure = true
			cfg.Token = testPAT
			cfg.MaxConcurrency = 16
			cfg.Incremental = true
			s := NewSource(&cfg, activity.Config{}, nil, componenttest.NewNopTelemetrySettings()).(*source)
			if err := s.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Shutdown(context.Background()) }()

			// The full scrape that every incremental one starts from, without
			// the cap: only its calls are of interest here.
			var rec countingRecorder
			if err := s.Scrape(context.Background(), &rec); err != nil {
				b.Fatal(err)
			}
			fullCalls, fullCounts := srv.TotalCalls(), rec.counts
			if rps > 0 {
				s.client.limiter = newLimiter(rps)
			}

			in := srv.Dataset().Instances[0]
			rng := rand.New(rand.NewPCG(3, 5))
			written := time.Now()
			var calls int64
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				for _, k := range rng.Perm(len(in.Orgs))[:changed] {
					written = written.Add(time.Millisecond)
					srv.Write(in.ID, written, func(w *fakezitadel.Writer) { changeOrg(rng, w, in.Orgs[k]) })
				}
				srv.ResetStats()
				rec = countingRecorder{}
				b.StartTimer()
				if err := s.Scrape(context.Background(), &rec); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				calls += srv.TotalCalls()
				if rec.counts != fullCounts {
					b.Fatalf("the incremental scrape recorded %d counts, the full one %d", rec.counts, fullCounts)
				}
				b.StartTimer()
			}
			b.StopTimer()
			perScrape := float64(calls) / float64(b.N)
			b.ReportMetric(float64(fullCalls), "full-calls")
			b.ReportMetric(perScrape, "calls/op")
			b.ReportMetric(100*perScrape/float64(fullCalls), "%-of-full")
			b.ReportMetric(float64(rec.counts), "counts/op")
		})
	}
}
