package zitadelapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// oneInstance has enough organizations and projects for several pages.
func oneInstance() fakezitadel.Spec {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	spec.OrgsPerInstance = 23
	return spec
}

// expectedCalls is what a default scrape of the endpoint's instance costs
// with pages of pageSize: instance info, seven totals (the organization
// total comes with the first page), five default policies and one page of
// the instance's providers, the organization pages, and per organization
// what Org.Calls says (no organization has more providers or domains than a page).
func expectedCalls(in *fakezitadel.Instance, pageSize int) int64 {
	n := 1 + 7 + 5 + 1 + (len(in.Orgs)+pageSize-1)/pageSize
	for _, o := range in.Orgs {
		n += o.Calls()
	}
	return int64(n)
}

func TestScrapeCountsTheWholeInstance(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PageSize = 5 // several organization pages
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)

	ds := srv.Dataset()
	want := ds.ExpectedCounts()
	assert.Equal(t, sortCounts(want), sortCounts(rec.counts))
	assert.Equal(t, expectedInstances(ds, derivedSystemID(cfg.Endpoint)), rec.instances)
	assert.Empty(t, srv.ZeroLimitRequests(), "every list call must carry a limit")
	assert.Equal(t, expectedCalls(ds.Instances[0], cfg.PageSize), srv.TotalCalls())
}

func TestScrapeNeverSendsLimitZero(t *testing.T) {
	spec := oneInstance()
	spec.MaxProjectsPerOrg = 7
	srv := startFake(t, spec, fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PageSize = 2 // projects and organizations span pages
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.NoError(t, err)
	assert.Empty(t, srv.ZeroLimitRequests())
	assert.Greater(t, srv.Calls(mgmtpb.ManagementService_ListApps_FullMethodName), int64(0))
}

func TestResourcesSelectTheCalls(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{model.ResourceUserMachine, model.ResourceProject}))

	rec, err := scrape(t, s)
	require.NoError(t, err)

	orgs := srv.Dataset().Instances[0].Orgs
	assert.Len(t, rec.counts, 1+2*len(orgs), "one instance total and two per organization")
	for _, c := range rec.counts {
		assert.Contains(t, []string{model.ResourceUserMachine, model.ResourceProject}, c.Resource)
	}
	assert.Zero(t, srv.Calls(mgmtpb.ManagementService_ListApps_FullMethodName), "applications were not selected")
	assert.Zero(t, srv.Calls(mgmtpb.ManagementService_ListActions_FullMethodName))
	assert.Equal(t, int64(len(orgs)), srv.Calls(mgmtpb.ManagementService_ListProjects_FullMethodName),
		"without applications one count call per organization suffices")
}

func TestPerOrganizationOffKeepsInstanceTotals(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)

	assert.Len(t, rec.counts, len(newPlan(nil, false).instance))
	for _, c := range rec.counts {
		assert.Equal(t, model.ParentInstance, c.ParentType)
	}
	assert.Equal(t, int64(1+len(newPlan(nil, false).instance)), srv.TotalCalls(), "instance info plus one call per total")
	assert.Equal(t, int64(len(srv.Dataset().Instances[0].Orgs)),
		rec.countsFor(model.ParentInstance, model.ResourceOrganization)[srv.Dataset().Instances[0].ID])
}

func TestPartialFailureKeepsTheOtherCounts(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(mgmtpb.ManagementService_ListUserGrants_FullMethodName, codes.Internal, -1)
	s := startSource(t, testConfig(srv), nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	var partial scrapererror.PartialScrapeError
	require.True(t, errors.As(err, &partial), "a partial scrape error lets the other counts flow: %v", err)
	orgs := srv.Dataset().Instances[0].Orgs
	assert.Equal(t, len(orgs), partial.Failed)
	assert.Contains(t, err.Error(), "authorization failed for 23 organizations")
	assert.Equal(t, 1, strings.Count(err.Error(), "authorization"), "one line for every organization")

	want := 0
	for _, c := range srv.Dataset().ExpectedCounts() {
		if c.Resource != model.ResourceAuthorization {
			want++
		}
	}
	assert.Len(t, rec.counts, want)
	assert.Empty(t, rec.countsFor(model.ParentOrganization, model.ResourceAuthorization))
}

func TestFailedActionsLeaveOutTheInstanceSum(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(mgmtpb.ManagementService_ListActions_FullMethodName, codes.Internal, 1)
	s := startSource(t, testConfig(srv), nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.Empty(t, rec.countsFor(model.ParentInstance, model.ResourceActionV1), "a sum over fewer organizations would be wrong")
	assert.Len(t, rec.countsFor(model.ParentOrganization, model.ResourceActionV1), len(srv.Dataset().Instances[0].Orgs)-1)
}

func TestThrottledCallsAreRetried(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls("", codes.ResourceExhausted, 3)
	cfg := testConfig(srv)
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.Equal(t, sortCounts(srv.Dataset().ExpectedCounts()), sortCounts(rec.counts))
	assert.Equal(t, expectedCalls(srv.Dataset().Instances[0], cfg.PageSize)+3, srv.TotalCalls())
}

func TestUnavailableRetriesStopAtTheLimit(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(userpb.UserService_ListUsers_FullMethodName, codes.Unavailable, -1)
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	cfg.Retry.MaxRetries = 2
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.Error(t, err)
	assert.Equal(t, int64(2*(1+2)), srv.Calls(userpb.UserService_ListUsers_FullMethodName),
		"two user totals, each tried once and retried twice")
}

func TestRetriesEndWithTheScrapeDeadline(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(userpb.UserService_ListUsers_FullMethodName, codes.Unavailable, -1)
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	cfg.Retry.MaxRetries = 10
	cfg.Retry.InitialInterval = 2 * time.Second
	cfg.Retry.MaxInterval = 2 * time.Second
	s := startSource(t, cfg, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	started := time.Now()
	rec := &recorder{}
	err := s.Scrape(ctx, rec)
	require.Error(t, err)
	assert.Less(t, time.Since(started), 2*time.Second, "no backoff may outlast the deadline")
	assert.NotEmpty(t, rec.counts, "the other totals are still recorded")
}

func TestPermissionDeniedNamesTheRoleOnce(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.Deny(mgmtpb.ManagementService_ListActions_FullMethodName)
	s := startSource(t, testConfig(srv), nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "IAM_OWNER_VIEWER"), err.Error())
	assert.Contains(t, err.Error(), "permission denied for action_v1")
	assert.LessOrEqual(t, srv.Calls(mgmtpb.ManagementService_ListActions_FullMethodName), int64(deniedEnough+defaultMaxConcurrency),
		"denied reads stop after a few organizations")
	assert.NotEmpty(t, rec.countsFor(model.ParentOrganization, model.ResourceUser))
}

func TestRejectedCredentialsGiveOneMessage(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.Token = "not-a-known-token"
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.Empty(t, rec.counts)
	assert.Contains(t, err.Error(), "instance at the endpoint: ZITADEL rejected the credentials")
	assert.Contains(t, err.Error(), "IAM_OWNER_VIEWER")
	assert.False(t, scrapererror.IsPartialScrapeError(err), "nothing was recorded")
}

// TestUserWithoutRoleIsToldTheRole: ZITADEL answers a user with no
// membership at all NOT_FOUND "membership not found"; that is a missing role.
func TestUserWithoutRoleIsToldTheRole(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{WithoutMembership: []string{testPAT}})
	s := startSource(t, testConfig(srv), nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.Empty(t, rec.counts)
	assert.Empty(t, rec.instances)
	assert.Contains(t, err.Error(), "instance at the endpoint: permission denied for instance")
	assert.Contains(t, err.Error(), "membership not found (AUTHZ-cdgFk)")
	assert.Equal(t, 1, strings.Count(err.Error(), "grant the user the IAM_OWNER_VIEWER role"), err.Error())
}

func TestUnauthenticatedMidScrapeStopsCalling(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCalls(userpb.UserService_ListUsers_FullMethodName, codes.Unauthenticated, -1)
	cfg := testConfig(srv)
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "rejected the credentials"), err.Error())
	assert.Less(t, srv.TotalCalls(), expectedCalls(srv.Dataset().Instances[0], cfg.PageSize)/2,
		"the calls stop once the credentials are rejected")
}

func TestDeletedOrganizationIsSkipped(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	gone := srv.Dataset().Instances[0].Orgs[4]
	srv.VanishOrg(gone.ID)
	s := startSource(t, testConfig(srv), nil)

	rec, err := scrape(t, s)
	require.NoError(t, err, "an organization deleted while counting is no failure")
	for _, c := range rec.counts {
		assert.NotEqual(t, gone.ID, c.ParentID)
	}
	inst := srv.Dataset().Instances[0]
	actions := 0
	for _, o := range inst.Orgs {
		if o != gone {
			actions += o.Actions
		}
	}
	assert.Equal(t, int64(actions), rec.countsFor(model.ParentInstance, model.ResourceActionV1)[inst.ID])
}

func TestConcurrencyIsBounded(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{Latency: 5 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.MaxConcurrency = 3
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.NoError(t, err)
	// The workers, plus the call listing the next page of organizations.
	assert.LessOrEqual(t, srv.PeakInFlight(), int64(cfg.MaxConcurrency+1))
	assert.GreaterOrEqual(t, srv.PeakInFlight(), int64(cfg.MaxConcurrency))
}

func TestRequestRateIsCapped(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.RequestsPerSecond = 500 // every count, the feature usage and the users by state included
	s := startSource(t, cfg, model.NewResourceFilter(model.Resources))

	started := time.Now()
	_, err := scrape(t, s)
	require.NoError(t, err)
	calls := srv.TotalCalls()
	t.Logf("%d calls in %s", calls, time.Since(started))
	// The limiter allows one call at once, then one per 2 ms.
	assert.GreaterOrEqual(t, time.Since(started), time.Duration(calls-1)*2*time.Millisecond-5*time.Millisecond)
}

func TestScrapeBeforeStartFails(t *testing.T) {
	cfg := NewDefaultConfig()
	s := NewSource(&cfg, activity.Config{}, nil, componenttest.NewNopTelemetrySettings())
	require.EqualError(t, s.Scrape(context.Background(), &recorder{}), "api source: not started")
	require.NoError(t, s.Shutdown(context.Background()))
}
