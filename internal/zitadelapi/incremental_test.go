package zitadelapi

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// clock is a settable time for the collector side.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// incrementalPair starts an incremental source and a full one over srv with
// every resource, users by state included.
func incrementalPair(t *testing.T, srv *fakezitadel.Server, eventPage int) (inc, full *source, collector *clock, logs *observer.ObservedLogs) {
	t.Helper()
	filter := model.NewResourceFilter(model.Resources)
	cfg := testConfig(srv)
	cfg.Incremental = true
	cfg.PageSize = 4
	inc = startSource(t, cfg, filter)
	collector = &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	inc.now = collector.now
	inc.eventPage = eventPage
	core, logs := observer.New(zap.InfoLevel)
	inc.set.Logger = zap.New(core)
	fullCfg := testConfig(srv)
	fullCfg.PageSize = 4
	full = startSource(t, fullCfg, filter)
	return inc, full, collector, logs
}

// mutate makes one random write to the installation.
func mutate(rng *rand.Rand, w *fakezitadel.Writer) string {
	in := w.Instance()
	if len(in.Orgs) == 0 {
		w.AddOrg()
		return "add org"
	}
	switch rng.IntN(6) {
	case 0:
		o := w.AddOrg()
		// Many events in one write: it crosses pages of the events.
		for range rng.IntN(6) {
			w.AddUser(o, rng.IntN(3) == 0, fakezitadel.UserState(rng.IntN(4)))
		}
		w.AddProject(o, rng.IntN(3))
		return "add org with users and a project"
	case 1:
		w.RemoveOrg(in.Orgs[rng.IntN(len(in.Orgs))])
		return "remove org"
	case 2:
		if rng.IntN(2) == 0 {
			w.SetDefaults(fakezitadel.Defaults{
				Login:                      fakezitadel.LoginPolicy{ForceMFA: rng.IntN(2) == 0},
				PasswordChangeNotification: rng.IntN(2) == 0,
			})
			return "instance defaults"
		}
		idps := rng.IntN(5)
		w.SetInstanceResources(rng.IntN(4), idps, rng.IntN(idps+1), rng.IntN(3))
		return "instance resources"
	}
	return changeOrg(rng, w, in.Orgs[rng.IntN(len(in.Orgs))])
}

// changeOrg makes one random write to an organization.
func changeOrg(rng *rand.Rand, w *fakezitadel.Writer, o *fakezitadel.Org) string {
	state := func() fakezitadel.UserState { return fakezitadel.UserState(rng.IntN(4)) }
	switch rng.IntN(9) {
	case 0:
		for range 1 + rng.IntN(3) {
			w.AddUser(o, rng.IntN(2) == 0, state())
		}
		return "add users"
	case 1:
		w.RemoveUser(o, rng.IntN(2) == 0, state())
		return "remove user"
	case 2:
		w.ChangeUserState(o, rng.IntN(2) == 0, state(), state())
		return "change user state"
	case 3:
		if rng.IntN(2) == 0 {
			w.AddProject(o, rng.IntN(4))
		} else {
			w.RemoveProject(o)
		}
		return "project"
	case 4:
		var p *fakezitadel.LoginPolicy
		if rng.IntN(3) > 0 {
			p = &fakezitadel.LoginPolicy{ForceMFA: rng.IntN(2) == 0, ForceMFALocalOnly: rng.IntN(4) == 0}
		}
		w.SetLoginPolicy(o, p)
		return "login policy"
	case 5:
		var n *bool
		if rng.IntN(2) == 0 {
			v := rng.IntN(2) == 0
			n = &v
		}
		w.SetOwnPolicies(o, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0, n)
		return "own policies"
	case 6:
		w.AddDomain(o, rng.IntN(2) == 0)
		return "domain"
	case 7:
		w.SetGrants(o, rng.IntN(10))
		w.SetActions(o, rng.IntN(3))
		return "grants and actions"
	default:
		n := rng.IntN(4)
		w.SetIdPs(o, n, rng.IntN(n+1))
		return "providers"
	}
}

// TestIncrementalEqualsFull changes the fake ZITADEL at random between
// scrapes, for many rounds, and compares after each what the incremental
// source records with what a full scrape of the same state records. Pages of
// 25 events make writes straddle page boundaries; two writes may share one
// creation date; some land a little before events already written.
func TestIncrementalEqualsFull(t *testing.T) {
	spec := oneInstance()
	spec.OrgsPerInstance = 12
	srv := startFake(t, spec, fakezitadel.Options{})
	// A write has at most 12 events and at most two writes share a date, so
	// pages of 25 always get past a date, and writes straddle their ends.
	inc, full, collector, logs := incrementalPair(t, srv, 25)
	instanceID := srv.Dataset().Instances[0].ID
	rng := rand.New(rand.NewPCG(11, 17))
	written := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	var incCalls, fullCalls int64
	sameDate := false
	const rounds = 60
	for round := range rounds {
		var ops []string
		for range rng.IntN(4) {
			at := written
			switch r := rng.IntN(4); {
			case r == 0 && !sameDate: // the same creation date as the write before
				sameDate = true
			case r == 1: // a push that began before the last one and was written after it, as concurrent pushes are
				at = written.Add(-time.Duration(1+rng.IntN(100)) * time.Millisecond)
			default:
				sameDate = false
				written = written.Add(time.Duration(1+rng.IntN(5000)) * time.Millisecond)
				at = written
			}
			srv.Write(instanceID, at, func(w *fakezitadel.Writer) { ops = append(ops, mutate(rng, w)) })
		}
		collector.t = collector.t.Add(time.Minute)

		srv.ResetStats()
		got, err := scrape(t, inc)
		require.NoError(t, err, "round %d", round)
		incCalls += srv.TotalCalls()
		srv.ResetStats()
		want, err := scrape(t, full)
		require.NoError(t, err)
		fullCalls += srv.TotalCalls()
		require.Equal(t, sortCounts(want.counts), sortCounts(got.counts), "round %d after %v", round, ops)
		require.Equal(t, want.instances, got.instances)
	}
	assert.Equal(t, 1, logs.FilterMessage("Counting a ZITADEL instance in full").Len(), "only the first scrape was full")
	assert.Less(t, incCalls*2, fullCalls, "incremental scrapes made %d calls, full ones %d", incCalls, fullCalls)
}

// TestIncrementalFallsBackToFull: a full count every full_scrape_interval,
// and whenever the events cannot be read, each with one log line saying why.
func TestIncrementalFallsBackToFull(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	inc, full, collector, logs := incrementalPair(t, srv, 5)
	in := srv.Dataset().Instances[0]
	reasons := func() []string {
		var out []string
		for _, e := range logs.TakeAll() {
			if e.Message == "Counting a ZITADEL instance in full" {
				out = append(out, e.ContextMap()["reason"].(string))
			}
		}
		return out
	}
	scrapeBoth := func() {
		t.Helper()
		got, err := scrape(t, inc)
		require.NoError(t, err)
		want, err := scrape(t, full)
		require.NoError(t, err)
		require.Equal(t, sortCounts(want.counts), sortCounts(got.counts))
	}
	written := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	scrapeBoth()
	assert.Equal(t, []string{"no earlier count of it"}, reasons())

	srv.Write(in.ID, written, func(w *fakezitadel.Writer) { w.AddUser(in.Orgs[0], false, fakezitadel.StateActive) })
	collector.t = collector.t.Add(time.Hour)
	scrapeBoth()
	assert.Empty(t, reasons())

	// Both the changes and the newest event's date are refused.
	srv.FailCalls(adminpb.AdminService_ListEvents_FullMethodName, codes.PermissionDenied, 2)
	scrapeBoth()
	assert.Equal(t, 1, logs.FilterMessage("The next scrape of this ZITADEL instance counts it in full too").Len())
	assert.Equal(t, []string{"its events could not be read: rpc error: code = PermissionDenied desc = injected PermissionDenied"}, reasons())

	scrapeBoth()
	assert.Equal(t, []string{"no earlier count of it"}, reasons(), "nothing was kept without a cursor")

	collector.t = collector.t.Add(24 * time.Hour)
	scrapeBoth()
	assert.Equal(t, []string{"full_scrape_interval (24h0m0s) has passed"}, reasons())

	// More events in one write than a page holds, all with one date: no
	// page gets past them.
	srv.Write(in.ID, written.Add(time.Hour), func(w *fakezitadel.Writer) {
		for range 6 {
			w.AddUser(in.Orgs[1], true, fakezitadel.StateLocked)
		}
	})
	collector.t = collector.t.Add(time.Hour)
	scrapeBoth()
	assert.Equal(t, []string{fmt.Sprintf("its events could not be read: more than 5 events (a page) share the creation date %s and cannot be paged through",
		written.Add(time.Hour).Format(time.RFC3339Nano))}, reasons())

	srv.FailCalls(adminpb.AdminService_ListEvents_FullMethodName, codes.Unavailable, 100)
	collector.t = collector.t.Add(time.Hour)
	got, err := scrape(t, inc)
	require.NoError(t, err, "the events are not a count: a full scrape takes their place")
	assert.NotEmpty(t, got.counts)
	assert.Len(t, reasons(), 1)
}

// TestIncrementalAfterFullRecountsNothingUnchanged: the events just before
// the newest one, which every incremental scrape re-reads for late writes,
// were in the full count; with nothing changed since, the first incremental
// scrape makes the calls any later one does.
func TestIncrementalAfterFullRecountsNothingUnchanged(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	inc, _, collector, _ := incrementalPair(t, srv, 25)
	in := srv.Dataset().Instances[0]
	written := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range in.Orgs[:10] {
		srv.Write(in.ID, written.Add(time.Duration(i)*time.Second), func(w *fakezitadel.Writer) {
			w.AddUser(o, false, fakezitadel.StateActive)
		})
	}
	full, err := scrape(t, inc)
	require.NoError(t, err)

	calls := func() int64 {
		t.Helper()
		collector.t = collector.t.Add(time.Minute)
		srv.ResetStats()
		got, err := scrape(t, inc)
		require.NoError(t, err)
		require.Equal(t, sortCounts(full.counts), sortCounts(got.counts))
		return srv.TotalCalls()
	}
	first, later := calls(), calls()
	assert.Equal(t, later, first, "the first incremental scrape counted organizations again")
	// Instance details, one page of events, the active sessions.
	assert.Equal(t, int64(3), later)
}

// TestIncrementalHonoursConcurrencyAndResources: the organizations counted
// again run on the same bounded workers, and only the selected resources
// are counted again.
func TestIncrementalHonoursConcurrencyAndResources(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{Latency: 2 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Incremental = true
	cfg.MaxConcurrency = 2
	s := startSource(t, cfg, model.NewResourceFilter([]string{model.ResourceUser, model.ResourceLoginPolicy}))
	_, err := scrape(t, s)
	require.NoError(t, err)

	in := srv.Dataset().Instances[0]
	srv.Write(in.ID, time.Now(), func(w *fakezitadel.Writer) {
		for _, o := range in.Orgs[:10] {
			w.AddUser(o, false, fakezitadel.StateInitial)
		}
	})
	srv.ResetStats()
	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.LessOrEqual(t, srv.PeakInFlight(), int64(cfg.MaxConcurrency+1), "the workers, and the producer reading events")
	// Instance details, one page of events, the user total and the default
	// login policy, then a user count and a login policy per changed organization.
	assert.Equal(t, int64(1+1+2+10*2), srv.TotalCalls())
	assert.Len(t, rec.counts, 2+len(in.Orgs))
}
