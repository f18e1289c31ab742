package zitadelapi

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	instancepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/instance"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	orgpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient/storageclienttest"
)

// TestImpossibleTotalsNeverWrap: a ZITADEL answering total_result 2^63-1
// for every organization's actions and every project's applications gives
// no negative or wrapped count: the sums that overflow are left out with a
// partial scrape error, the per-organization counts stay as answered.
func TestImpossibleTotalsNeverWrap(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{Tamper: func(_ string, answer any) {
		switch a := answer.(type) {
		case *mgmtpb.ListActionsResponse:
			a.Details.TotalResult = math.MaxInt64
		case *mgmtpb.ListAppsResponse:
			a.Details.TotalResult = math.MaxUint64
		}
	}})
	cfg := testConfig(srv)
	cfg.PerOrganization = true
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.True(t, scrapererror.IsPartialScrapeError(err), "%v", err)
	assert.Contains(t, err.Error(), "2^63-1")
	for _, c := range rec.counts {
		assert.GreaterOrEqual(t, c.Amount, int64(0), "%+v", c)
	}
	assert.Empty(t, rec.countsFor(model.ParentInstance, model.ResourceActionV1), "the overflowing sum is left out")
	orgs := rec.countsFor(model.ParentOrganization, model.ResourceActionV1)
	require.NotEmpty(t, orgs)
	for _, n := range orgs {
		assert.Equal(t, int64(math.MaxInt64), n)
	}
	// An organization's applications over several projects overflow, too;
	// over none or one they are what ZITADEL answered.
	apps := rec.countsFor(model.ParentOrganization, model.ResourceApplication)
	assert.Less(t, len(apps), len(orgs), "some organization has several projects")
	for id, n := range apps {
		assert.Contains(t, []int64{0, math.MaxInt64}, n, id)
	}
}

func TestAddCounts(t *testing.T) {
	for _, tt := range []struct {
		a, b int64
		sum  int64
		ok   bool
	}{
		{1, 2, 3, true},
		{math.MaxInt64, 0, math.MaxInt64, true},
		{math.MaxInt64, 1, 0, false},
		{math.MaxInt64 - 1, math.MaxInt64 - 1, 0, false},
		{-1, 2, 0, false},
	} {
		sum, ok := addCounts(tt.a, tt.b)
		assert.Equal(t, tt.ok, ok, "%d + %d", tt.a, tt.b)
		assert.Equal(t, tt.sum, sum, "%d + %d", tt.a, tt.b)
	}
}

// TestUpstreamIDsAreHeldToZITADELsShapes: an instance id that is an e-mail
// address, a domain with a space and an organization id of a megabyte never
// become label values; they are left out with a partial scrape error that
// does not repeat them.
func TestUpstreamIDsAreHeldToZITADELsShapes(t *testing.T) {
	huge := strings.Repeat("7", 1<<20)
	tests := []struct {
		name   string
		tamper func(answer any)
		check  func(t *testing.T, rec *activityRecorder)
	}{
		{"an e-mail address as instance id", func(answer any) {
			if a, ok := answer.(*adminpb.GetMyInstanceResponse); ok {
				a.Instance.Id = "jane.doe@example.com x"
			}
		}, func(t *testing.T, rec *activityRecorder) {
			assert.Empty(t, rec.instances, "the instance")
			assert.Empty(t, rec.counts, "every count of the instance")
			assert.Empty(t, rec.activity, "the instance's activity")
		}},
		{"a domain with a space and a megabyte organization id", func(answer any) {
			switch a := answer.(type) {
			case *adminpb.GetMyInstanceResponse:
				a.Instance.Domains = append(a.Instance.Domains, &instancepb.Domain{Domain: "jane doe.example.com"})
			case *orgpb.ListOrganizationsResponse:
				a.Result[0].Id = huge
			}
		}, func(t *testing.T, rec *activityRecorder) {
			require.Len(t, rec.instances, 1)
			assert.NotEmpty(t, rec.instances[0].Domains, "the good domains stay")
			for _, d := range rec.instances[0].Domains {
				assert.NotContains(t, d, " ")
			}
			require.NotEmpty(t, rec.counts, "the other organizations' counts stay")
			for _, c := range rec.counts {
				assert.LessOrEqual(t, len(c.ParentID), 64)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, oneInstance(), fakezitadel.Options{Tamper: func(_ string, answer any) { tt.tamper(answer) }})
			cfg := testConfig(srv)
			cfg.Activity.Enabled = true
			s := startSource(t, cfg, nil)

			rec := &activityRecorder{}
			err := s.Scrape(context.Background(), rec)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "jane")
			assert.NotContains(t, err.Error(), "7777777777")
			assert.Contains(t, err.Error(), "not what it issues")
			tt.check(t, rec)
		})
	}
}

// TestOversizedEventPagesArePagedSmaller: a ListEvents answer above the
// client's 4 MiB is grpc-go's own RESOURCE_EXHAUSTED, not ZITADEL's
// throttling: it is not retried (it would fail the same way), and the events
// are read in smaller pages instead, every login counted once.
func TestOversizedEventPagesArePagedSmaller(t *testing.T) {
	const logins = 1200
	padding := structpb.NewStringValue(strings.Repeat("x", 8<<10))
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{Tamper: func(_ string, answer any) {
		if a, ok := answer.(*adminpb.ListEventsResponse); ok {
			for _, e := range a.Events {
				// 8 KiB an event: a page of 1,000 is 8 MiB, of 500 still 4 MiB.
				if e.Payload == nil {
					e.Payload = &structpb.Struct{Fields: map[string]*structpb.Value{}}
				}
				e.Payload.Fields["padding"] = padding
			}
		}
	}})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	for i := range logins {
		srv.Write(in.ID, now.Add(-time.Hour+time.Duration(i)*time.Second), func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{UserID: fmt.Sprint("u", i), Org: in.Orgs[0], ClientID: "app", AuthMethods: []int{fakezitadel.AuthIdP}})
		})
	}
	cfg := activityConfig(srv)
	cfg.Activity.MaxPagesPerScrape = 100
	src := startActivitySource(t, cfg, componenttest.NewNopHost(), &clock{t: now})
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

	rep, err := scrapeActivity(t, src)
	require.NoError(t, err)
	var total uint64
	for _, l := range rep.Logins {
		total += l.Count
	}
	assert.Equal(t, uint64(logins), total)
	// 1,000 and 500 are refused once each, then pages of 250 (the overlap
	// re-reads a little); retrying the refusals would cost 4 calls each.
	calls := srv.Calls(adminpb.AdminService_ListEvents_FullMethodName)
	t.Logf("ListEvents calls: %d", calls)
	assert.LessOrEqual(t, calls, int64(2+logins/250+3))
}

func TestAnswerTooLargeIsNotThrottling(t *testing.T) {
	assert.True(t, answerTooLarge(status.Error(codes.ResourceExhausted, "grpc: received message larger than max (8389447 vs. 4194304)")))
	assert.True(t, answerTooLarge(status.Error(codes.ResourceExhausted, "grpc: received message after decompression larger than max 4194304")))
	assert.False(t, answerTooLarge(status.Error(codes.ResourceExhausted, "quota exceeded (QUOTA-2m2o)")))
	assert.False(t, answerTooLarge(status.Error(codes.Internal, "grpc: received message larger than max (1 vs. 0)")))
}

// TestOnlyZITADELsMilestoneTypesAreKept: milestone numbers ZITADEL's API
// does not define, and a type answered twice, make no series; an answer of
// 100,000 of them is refused by its size before it is decoded.
func TestOnlyZITADELsMilestoneTypesAreKept(t *testing.T) {
	for _, tc := range []struct {
		unknown int
		refused bool // the answer (about 17 bytes a milestone) is larger than the client takes
	}{{unknown: 15}, {unknown: 100_000, refused: true}} {
		unknown := tc.unknown
		t.Run(fmt.Sprint(unknown), func(t *testing.T) {
			spec := fakezitadel.DefaultSpec()
			spec.Instances = 1
			srv := startFake(t, spec, fakezitadel.Options{Tamper: func(_ string, answer any) {
				a, ok := answer.(*adminpb.ListMilestonesResponse)
				if !ok {
					return
				}
				reached := timestamppb.Now()
				a.Result = append(a.Result, &milestonepb.Milestone{Type: milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_CREATED, ReachedDate: reached})
				for i := range unknown {
					a.Result = append(a.Result, &milestonepb.Milestone{Type: milestonepb.MilestoneType(7 + i), ReachedDate: reached})
				}
			}})
			now := time.Now().UTC()
			src := startActivitySource(t, activityConfig(srv), componenttest.NewNopHost(), &clock{t: now})
			t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

			rep, err := scrapeActivity(t, src)
			var types []string
			for _, m := range rep.Milestones {
				types = append(types, m.Type)
			}
			if tc.refused {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "milestones")
				assert.Empty(t, types)
				assert.Equal(t, int64(1), srv.Calls(adminpb.AdminService_ListMilestones_FullMethodName), "not retried")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"instance_created"}, types)
		})
	}
}

// A milestone reached at a date ZITADEL cannot have written is left out, as
// an event of that date is.
func TestMilestonesOfImpossibleDatesAreLeftOut(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{Tamper: func(_ string, answer any) {
		if a, ok := answer.(*adminpb.ListMilestonesResponse); ok {
			a.Result = []*milestonepb.Milestone{
				{Type: milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_CREATED, ReachedDate: timestamppb.New(time.Unix(1<<40, 0))},
				{Type: milestonepb.MilestoneType_MILESTONE_TYPE_PROJECT_CREATED, ReachedDate: timestamppb.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))},
			}
		}
	}})
	src := startActivitySource(t, activityConfig(srv), componenttest.NewNopHost(), &clock{t: time.Now().UTC()})
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

	rep, err := scrapeActivity(t, src)
	require.NoError(t, err)
	require.Len(t, rep.Milestones, 1)
	assert.Equal(t, "project_created", rep.Milestones[0].Type)
}

// TestApplicationCapIsWarnedOfByItsKey: logins of more applications in one
// organization than activity::max_applications_per_organization are counted
// as "other", and the warning names the key to raise.
func TestApplicationCapIsWarnedOfByItsKey(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	srv.Write(in.ID, now.Add(-time.Hour), func(w *fakezitadel.Writer) {
		for i := range 5 {
			w.Login(fakezitadel.Login{UserID: fmt.Sprint("u", i), Org: in.Orgs[0], ClientID: fmt.Sprint(i, "@app"), AuthMethods: []int{fakezitadel.AuthIdP}})
		}
	})
	cfg := activityConfig(srv)
	cfg.Activity.MaxApplicationsPerOrganization = 2
	core, logs := observer.New(zap.WarnLevel)
	src := startActivitySourceLogged(t, cfg, componenttest.NewNopHost(), &clock{t: now}, zap.New(core))
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

	rep, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"0@app": 1, "1@app": 1, activity.Other: 3}, activitytest.LoginsByApplication(rep))
	warned := logs.FilterMessageSnippet("activity::max_applications_per_organization").All()
	require.Len(t, warned, 1)
	assert.Equal(t, in.Orgs[0].ID, warned[0].ContextMap()["organization"])
}

// TestStoredActivityStateIsCheckedAndItsLossLogged: an absent state is
// logged; one whose stored login counter has a flipped byte is refused
// with a line that says what is dropped, and nothing is counted from it.
func TestStoredActivityStateIsCheckedAndItsLossLogged(t *testing.T) {
	_, in, now, cfg, host := dayWithStorage(t)

	core, logs := observer.New(zap.InfoLevel)
	first := startActivitySourceLogged(t, cfg, host, &clock{t: now}, zap.New(core))
	before, err := scrapeActivity(t, first)
	require.NoError(t, err)
	require.NoError(t, first.Shutdown(context.Background()))
	assert.Equal(t, 1, logs.FilterMessageSnippet("No activity state in storage").Len())

	// One byte of the stored state flipped, as a bad disk would. The
	// receiver's client is named "activity" and keeps each instance under
	// "instance/<id>".
	client, err := host[*cfg.Activity.Storage].(storage.Extension).GetClient(context.Background(), component.KindReceiver, component.MustNewID("zitadel"), "activity")
	require.NoError(t, err)
	key := "instance/" + in.ID
	data, err := client.Get(context.Background(), key)
	require.NoError(t, err)
	require.NotNil(t, data)
	data[len(data)/2] ^= 0x08
	require.NoError(t, client.Set(context.Background(), key, data))
	require.NoError(t, client.Close(context.Background()))

	second := startActivitySourceLogged(t, cfg, host, &clock{t: now.Add(time.Minute)}, zap.New(core))
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	after, err := scrapeActivity(t, second)
	require.NoError(t, err)
	refused := logs.FilterMessageSnippet("Activity state in storage refused").All()
	require.Len(t, refused, 1)
	assert.Contains(t, refused[0].Message, "counters, read position and active users are dropped")
	assert.Contains(t, refused[0].ContextMap()["error"], "checksum")
	assert.Equal(t, logins(before), logins(after), "counted again from the look-back, not from damaged numbers")
}

// dayWithStorage starts a ZITADEL with a day of activity two hours ago, and
// an activity configuration that keeps its state in a file storage.
func dayWithStorage(t *testing.T) (*fakezitadel.Server, *fakezitadel.Instance, time.Time, *Config, storageclienttest.Host) {
	t.Helper()
	srv, in, now := fakeWithADayAgo(t, 2*time.Hour)
	id, host := storageclienttest.FileStorage(t, t.TempDir())
	cfg := activityConfig(srv)
	cfg.Activity.Storage = &id
	return srv, in, now, cfg, host
}
