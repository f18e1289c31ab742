package zitadelapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// BenchmarkMilestonesOfUnknownTypes scrapes the activity of a ZITADEL whose
// ListMilestones answers 100,000 milestone types its API does not define,
// and reports the milestone series one scrape makes; B/op is the client's
// cost of the answer.
func BenchmarkMilestonesOfUnknownTypes(b *testing.B) {
	reached := timestamppb.Now()
	unknown := make([]*milestonepb.Milestone, 100_000)
	for i := range unknown {
		unknown[i] = &milestonepb.Milestone{Type: milestonepb.MilestoneType(7 + i), ReachedDate: reached}
	}
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{
		PATs: map[string]string{testPAT: ""},
		Tamper: func(_ string, answer any) {
			if a, ok := answer.(*adminpb.ListMilestonesResponse); ok {
				a.Result = append(a.Result, unknown...)
			}
		},
	})
	require.NoError(b, srv.Start("127.0.0.1:0", "127.0.0.1:0"))
	b.Cleanup(srv.Close)
	s := NewSource(activityConfig(srv), activityConfig(srv).Activity.Block(), model.NewResourceFilter([]string{model.ResourceOrganization}), componenttest.NewNopTelemetrySettings(), nopOwnMetrics(b)).(*source)
	require.NoError(b, s.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	b.ReportAllocs()
	series := 0
	for b.Loop() {
		rec := &activityRecorder{}
		_ = s.Scrape(context.Background(), rec)
		series = 0
		for _, r := range rec.activity {
			series += len(r.Milestones)
		}
	}
	b.ReportMetric(float64(series), "milestone-series")
}
