package zitadelapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity/activitytest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// activityRecorder keeps the activity a scrape records besides the counts.
type activityRecorder struct {
	recorder
	activity map[string]activity.Report
}

func (r *activityRecorder) RecordActivity(id string, rep activity.Report) {
	if r.activity == nil {
		r.activity = map[string]activity.Report{}
	}
	r.activity[id] = rep
}

func scrapeActivity(t *testing.T, s *source) (activity.Report, error) {
	t.Helper()
	rec := &activityRecorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Scrape(ctx, rec)
	require.Len(t, rec.activity, 1, "one instance, one activity report")
	for _, r := range rec.activity {
		return r, err
	}
	return activity.Report{}, err
}

func activityConfig(srv *fakezitadel.Server) *Config {
	cfg := testConfig(srv)
	cfg.Activity.Enabled = true
	cfg.Activity.ActiveUsersPerOrganization = true
	return cfg
}

// startActivitySource starts a source of the endpoint's instance only,
// counting one resource, with the collector's clock at clk.
func startActivitySource(t *testing.T, cfg *Config, host component.Host, clk *clock) *source {
	t.Helper()
	return startActivitySourceLogged(t, cfg, host, clk, zap.NewNop())
}

// startActivitySourceLogged is startActivitySource logging to logger.
func startActivitySourceLogged(t *testing.T, cfg *Config, host component.Host, clk *clock, logger *zap.Logger) *source {
	t.Helper()
	return startActivitySourceWith(t, cfg, cfg.Activity.Block(), host, clk, logger)
}

// startActivitySourceWith is startActivitySource with the `activity:` block act.
func startActivitySourceWith(t *testing.T, cfg *Config, act activity.Config, host component.Host, clk *clock, logger *zap.Logger) *source {
	t.Helper()
	set := componenttest.NewNopTelemetrySettings()
	set.Logger = logger
	require.NoError(t, cfg.Validate())
	s := NewSource(cfg, act, model.NewResourceFilter([]string{model.ResourceOrganization}), set).(*source)
	s.SetStorageOwner(component.MustNewID("zitadel"))
	s.now = clk.now
	require.NoError(t, s.Start(context.Background(), host))
	return s
}

func logins(r activity.Report) map[activity.LoginKey]uint64 {
	out := map[activity.LoginKey]uint64{}
	for _, l := range r.Logins {
		out[l.LoginKey] = l.Count
	}
	return out
}

func checks(r activity.Report) map[activity.CheckKey]uint64 {
	out := map[activity.CheckKey]uint64{}
	for _, c := range r.Checks {
		out[c.CheckKey] = c.Count
	}
	return out
}

func active(r activity.Report, parentType, parentID, userType, window string) (uint64, bool) {
	for _, a := range r.Active {
		if a.ParentType == parentType && a.ParentID == parentID && a.UserType == userType && a.Window == window {
			return a.Users, true
		}
	}
	return 0, false
}

// writeDay writes ZITADEL's events of a few logins, checks and a lockout.
func writeDay(srv *fakezitadel.Server, in *fakezitadel.Instance, at time.Time) {
	a, b := in.Orgs[0], in.Orgs[1]
	srv.Write(in.ID, at, func(w *fakezitadel.Writer) {
		w.Login(fakezitadel.Login{UserID: "alice", Org: a, ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
		w.Login(fakezitadel.Login{UserID: "bob", Org: a, ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword, fakezitadel.AuthTOTP}})
		w.Login(fakezitadel.Login{UserID: "carol", Org: b, EntityID: "urn:sp:wiki", AuthMethods: []int{fakezitadel.AuthPasswordless}})
		w.Login(fakezitadel.Login{UserID: "batch", Org: b, ClientID: "batch@svc", Machine: true})
		w.Login(fakezitadel.Login{UserID: "signer", Org: b, ClientID: "signer@svc", Machine: true, AuthMethods: []int{fakezitadel.AuthPrivateKey}})
	})
	srv.Write(in.ID, at.Add(time.Second), func(w *fakezitadel.Writer) {
		for range 3 {
			w.CheckPassword(a, "mallory", false)
		}
		w.Lock(a, "mallory")
		w.Check(b, "carol", "user.human.mfa.otp.sms.check.failed")
		w.Login(fakezitadel.Login{UserID: "alice", Org: a, ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
	})
}

func TestActivityCountsZitadelsEventsOnceEach(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	a, b := in.Orgs[0].ID, in.Orgs[1].ID
	now := time.Now().UTC()
	writeDay(srv, in, now.Add(-3*time.Hour))

	clk := &clock{t: now}
	core, logs := observer.New(zap.DebugLevel)
	src := startActivitySourceLogged(t, activityConfig(srv), componenttest.NewNopHost(), clk, zap.New(core))
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })

	rep, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Equal(t, now.Add(-activity.DefaultLookback), rep.Start, "the counters start where the first read began")
	assert.Equal(t, map[activity.LoginKey]uint64{
		{Protocol: "oidc", Application: "app-web", Organization: a, Kind: "session"}:                        2,
		{Protocol: "oidc", Application: "app-web", Organization: a, Kind: "session", MultiFactor: true}:     1,
		{Protocol: "saml", Application: "urn:sp:wiki", Organization: b, Kind: "session", MultiFactor: true}: 1,
		{Protocol: "oidc", Application: "batch@svc", Organization: b, Kind: "machine"}:                      1,
		{Protocol: "oidc", Application: "signer@svc", Organization: b, Kind: "machine"}:                     1,
	}, logins(rep), "session logins, machine grants without a session, SAML by entity id; token refreshes are no logins")
	assert.Equal(t, map[activity.CheckKey]uint64{
		{Organization: a, Factor: "password", Outcome: "succeeded"}: 3,
		{Organization: a, Factor: "password", Outcome: "failed"}:    3,
		{Organization: a, Factor: "otp_app", Outcome: "succeeded"}:  1,
		{Organization: b, Factor: "otp_sms", Outcome: "failed"}:     1,
	}, checks(rep), "checks by the user's organization; ZITADEL's checks name no application")
	assert.Equal(t, []activity.Lockout{{Organization: a, Count: 1}}, rep.Lockouts)
	for _, w := range []string{"1d", "7d", "30d"} {
		n, _ := active(rep, activity.ParentInstance, "", activity.UserHuman, w)
		assert.Equal(t, uint64(3), n, "alice twice is one active user: %s", w)
		n, _ = active(rep, activity.ParentInstance, "", activity.UserMachine, w)
		assert.Equal(t, uint64(2), n, w)
		n, _ = active(rep, activity.ParentOrganization, a, activity.UserHuman, w)
		assert.Equal(t, uint64(2), n, w)
	}
	var milestones []string
	for _, m := range rep.Milestones {
		milestones = append(milestones, m.Type)
	}
	assert.Equal(t, []string{"instance_created", "authentication_succeeded_on_instance", "authentication_succeeded_on_application"}, milestones)

	// Nothing new: the overlap re-reads the last minute but counts nothing twice.
	clk.t = now.Add(time.Minute)
	again, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Equal(t, rep.Logins, again.Logins)
	assert.Equal(t, rep.Checks, again.Checks)

	// Nothing personal is emitted, kept or logged.
	state := string(src.activity.Instance(in.ID).Marshal())
	text := fmt.Sprintf("%+v", again)
	for _, l := range logs.All() {
		text += l.Message + fmt.Sprint(l.ContextMap())
	}
	for _, personal := range []string{"alice", "bob", "carol", "mallory", "203.0.113.7", "Mozilla"} {
		assert.NotContains(t, text, personal)
		assert.NotContains(t, state, personal)
	}

	// The day after, the one-day window has forgotten them.
	clk.t = now.Add(22 * time.Hour)
	later, err := scrapeActivity(t, src)
	require.NoError(t, err)
	n, _ := active(later, activity.ParentInstance, "", activity.UserHuman, "1d")
	assert.Zero(t, n)
	n, _ = active(later, activity.ParentInstance, "", activity.UserHuman, "7d")
	assert.Equal(t, uint64(3), n)
}

func TestActivitySurvivesARestartWithStorage(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	writeDay(srv, in, now.Add(-2*time.Hour))

	id, host := activitytest.FileStorage(t)
	cfg := activityConfig(srv)
	cfg.Activity.Storage = &id

	clk := &clock{t: now}
	first := startActivitySource(t, cfg, host, clk)
	before, err := scrapeActivity(t, first)
	require.NoError(t, err)
	require.NoError(t, first.Shutdown(context.Background()))

	// While the collector is down, one more login.
	srv.Write(in.ID, now.Add(-time.Minute), func(w *fakezitadel.Writer) {
		w.Login(fakezitadel.Login{UserID: "dave", Org: in.Orgs[0], ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
	})
	clk.t = now.Add(time.Minute)
	second := startActivitySource(t, cfg, host, clk)
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	after, err := scrapeActivity(t, second)
	require.NoError(t, err)
	assert.Equal(t, before.Start, after.Start, "the counters keep their start")
	key := activity.LoginKey{Protocol: "oidc", Application: "app-web", Organization: in.Orgs[0].ID, Kind: "session"}
	assert.Equal(t, logins(before)[key]+1, logins(after)[key], "no login counted twice, none lost")
	assert.Equal(t, checks(before)[activity.CheckKey{Organization: in.Orgs[0].ID, Factor: "password", Outcome: "succeeded"}]+1,
		checks(after)[activity.CheckKey{Organization: in.Orgs[0].ID, Factor: "password", Outcome: "succeeded"}])
	n, _ := active(after, activity.ParentInstance, "", activity.UserHuman, "1d")
	assert.Equal(t, uint64(4), n, "the users seen before the restart are still known, by their hashes")
}

func TestActivityFirstReadCatchesUpOverSeveralScrapes(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	for i := range 10 {
		srv.Write(in.ID, now.Add(-time.Duration(10-i)*time.Hour), func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{UserID: fmt.Sprint("u", i), Org: in.Orgs[0], ClientID: "app", AuthMethods: []int{fakezitadel.AuthIdP}})
		})
	}
	cfg := activityConfig(srv)
	act := cfg.Activity.Block()
	act.MaxEventsPerScrape = 4 // two pages of two
	clk := &clock{t: now}
	src := startActivitySourceWith(t, cfg, act, componenttest.NewNopHost(), clk, zap.NewNop())
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })
	src.eventPage = 2

	var seen []uint64
	for range 5 {
		rep, err := scrapeActivity(t, src)
		require.NoError(t, err)
		var total uint64
		for _, l := range rep.Logins {
			total += l.Count
		}
		seen = append(seen, total)
		_, reported := active(rep, activity.ParentInstance, "", activity.UserHuman, "30d")
		assert.Equal(t, total == 10, reported, "active users only once caught up (%d logins read)", total)
	}
	// A page after the first starts just before the previous page's last
	// date, for the rest of a write that page ended in: two pages of two
	// read three new logins, and the overlap of the next scrape one.
	assert.Equal(t, []uint64{3, 5, 7, 9, 10}, seen)
}

func TestActivityWarnsWhenRetentionRemovedUnreadEvents(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	login := func(at time.Time) {
		srv.Write(in.ID, at, func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{UserID: "u", Org: in.Orgs[0], ClientID: "app", AuthMethods: []int{fakezitadel.AuthPassword}})
		})
	}
	login(now.Add(-30 * time.Minute))
	cfg := activityConfig(srv)
	cfg.AuditLogRetention = time.Hour
	cfg.Activity.Lookback = time.Hour
	clk := &clock{t: now}
	core, logs := observer.New(zap.WarnLevel)
	src := startActivitySourceLogged(t, cfg, componenttest.NewNopHost(), clk, zap.New(core))
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })
	_, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Zero(t, logs.Len())

	// The collector is away for three hours; ZITADEL removes what is older than an hour.
	login(now.Add(-20 * time.Minute))
	clk.t = now.Add(3 * time.Hour)
	srv.SetAuditLogRetention(time.Hour, clk.now)
	rep, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rep.Logins[0].Count, "the removed login is not seen")
	require.Equal(t, 1, logs.Len())
	assert.Contains(t, logs.All()[0].Message, "audit_log_retention")
}

func TestActivityReadsOnlyItsEventTypesInBoundedPages(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	writeDay(srv, in, now.Add(-time.Hour))
	clk := &clock{t: now}
	src := startActivitySource(t, activityConfig(srv), componenttest.NewNopHost(), clk)
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })
	_, err := scrapeActivity(t, src)
	require.NoError(t, err)
	assert.Equal(t, int64(1), srv.Calls(adminpb.AdminService_ListEvents_FullMethodName), "one short page holds every new event")
	assert.LessOrEqual(t, len(activity.EventTypes()), 30, "ZITADEL takes at most 30 event types")
	assert.True(t, strings.HasPrefix(activity.EventTypes()[0], "oidc_session"))
}

// BenchmarkActivityDayOfLogins reads a day of 50,000 logins with the default
// max_pages_per_scrape, over as many scrapes as the first read takes, and
// reports the ListEvents calls: by kind of login, since a password login also
// writes the counted password.check.succeeded and an OTP login its OTP check,
// and on 10 and 1,000 organizations, which must not change the figure. Then
// a scrape without new events, and one after 1,000 more logins.
func BenchmarkActivityDayOfLogins(b *testing.B) {
	for _, c := range []struct {
		name    string
		orgs    int
		methods []int
	}{
		{"idp/orgs=10", 10, []int{fakezitadel.AuthIdP}},
		{"password/orgs=10", 10, []int{fakezitadel.AuthPassword}},
		{"password/orgs=1000", 1000, []int{fakezitadel.AuthPassword}},
		{"password+otp/orgs=10", 10, []int{fakezitadel.AuthPassword, fakezitadel.AuthTOTP}},
	} {
		b.Run(c.name, func(b *testing.B) {
			spec := fakezitadel.DefaultSpec()
			spec.Instances, spec.OrgsPerInstance = 1, c.orgs
			srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{PATs: map[string]string{testPAT: ""}})
			require.NoError(b, srv.Start("127.0.0.1:0", "127.0.0.1:0"))
			b.Cleanup(srv.Close)
			in := srv.Dataset().Instances[0]
			now := time.Now().UTC()
			writeLogins := func(from time.Time, n int) {
				for i := range n {
					srv.Write(in.ID, from.Add(time.Duration(i)*1728*time.Millisecond), func(w *fakezitadel.Writer) {
						w.Login(fakezitadel.Login{UserID: fmt.Sprint("u", i), Org: in.Orgs[i%len(in.Orgs)], ClientID: "app", AuthMethods: c.methods})
					})
				}
			}
			writeLogins(now.Add(-24*time.Hour), 50_000)
			calls := func() int64 { return srv.Calls(adminpb.AdminService_ListEvents_FullMethodName) }
			for range b.N {
				s := NewSource(activityConfig(srv), activityConfig(srv).Activity.Block(), model.NewResourceFilter([]string{model.ResourceOrganization}), componenttest.NewNopTelemetrySettings()).(*source)
				require.NoError(b, s.Start(context.Background(), componenttest.NewNopHost()))
				before, scrapes := calls(), 0
				rec := &activityRecorder{}
				for total := uint64(0); total < 50_000; scrapes++ {
					require.Less(b, scrapes, 10, "the first read does not catch up")
					rec = &activityRecorder{}
					require.NoError(b, s.Scrape(context.Background(), rec))
					total = 0
					for _, l := range rec.activity[in.ID].Logins {
						total += l.Count
					}
				}
				require.NotEmpty(b, rec.activity[in.ID].Active, "caught up")
				b.ReportMetric(float64(calls()-before), "ListEvents-calls")
				b.ReportMetric(float64(scrapes), "scrapes")

				before = calls()
				require.NoError(b, s.Scrape(context.Background(), &activityRecorder{}))
				b.ReportMetric(float64(calls()-before), "calls-no-new-events")
				b.StopTimer()
				writeLogins(time.Now().UTC().Add(-time.Minute), 1_000)
				b.StartTimer()
				before = calls()
				require.NoError(b, s.Scrape(context.Background(), &activityRecorder{}))
				b.ReportMetric(float64(calls()-before), "calls-1000-new-logins")
				require.NoError(b, s.Shutdown(context.Background()))
			}
		})
	}
}
