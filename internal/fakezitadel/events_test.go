package fakezitadel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
)

// TestListEventsHasZitadelsSemantics: strict dates, one date for every event
// of a write, per-aggregate sequences, a page of at most 1000, no cursor.
func TestListEventsHasZitadelsSemantics(t *testing.T) {
	srv, conn := start(t, Options{})
	admin := adminpb.NewAdminServiceClient(conn)
	in := srv.Dataset().Instances[0]
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var org *Org
	srv.Write(in.ID, t0, func(w *Writer) { org = w.AddOrg() })
	srv.Write(in.ID, t0.Add(time.Second), func(w *Writer) {
		for range 3 {
			w.AddUser(org, false, StateActive)
		}
		w.SetLoginPolicy(org, &LoginPolicy{ForceMFA: true})
	})
	list := func(req *adminpb.ListEventsRequest) []string {
		t.Helper()
		resp, err := admin.ListEvents(withToken(pat), req)
		require.NoError(t, err)
		var out []string
		for _, e := range resp.GetEvents() {
			out = append(out, e.GetType().GetType())
		}
		return out
	}
	after := func(t time.Time) *adminpb.ListEventsRequest_Range {
		return &adminpb.ListEventsRequest_Range{Range: &adminpb.ListEventsRequestCreationDateRange{Since: timestamppb.New(t)}}
	}

	assert.Equal(t, []string{
		"instance.added", "org.added", "org.domain.added", "org.domain.verified", "org.domain.primary.set",
		"user.human.added", "user.human.added", "user.human.added", "org.policy.login.added",
	},
		list(&adminpb.ListEventsRequest{Asc: true}), "limit 0 is ZITADEL's largest page, oldest first")
	assert.Equal(t, []string{"user.human.added", "user.human.added", "user.human.added", "org.policy.login.added"},
		list(&adminpb.ListEventsRequest{Asc: true, CreationDateFilter: after(t0)}), "since is strict: the first write is left out")
	assert.Equal(t, []string{"org.policy.login.added", "user.human.added"},
		list(&adminpb.ListEventsRequest{Limit: 2, CreationDateFilter: &adminpb.ListEventsRequest_From{From: timestamppb.New(t0.Add(2 * time.Second))}}),
		"from without asc: before, newest first")
	assert.Equal(t, []string{"org.added", "org.domain.added", "org.domain.verified", "org.domain.primary.set", "org.policy.login.added"},
		list(&adminpb.ListEventsRequest{Asc: true, AggregateTypes: []string{AggregateOrg}}))

	resp, err := admin.ListEvents(withToken(pat), &adminpb.ListEventsRequest{Asc: true, AggregateTypes: []string{AggregateOrg}})
	require.NoError(t, err)
	var seq []uint64
	for _, e := range resp.GetEvents() {
		seq = append(seq, e.GetSequence())
		assert.Equal(t, org.ID, e.GetAggregate().GetId())
		assert.Equal(t, org.ID, e.GetAggregate().GetResourceOwner())
	}
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, seq, "sequences count the aggregate's events")
	assert.Equal(t, t0, resp.GetEvents()[3].GetCreationDate().AsTime(), "one write, one date")
	assert.Equal(t, t0.Add(time.Second), resp.GetEvents()[4].GetCreationDate().AsTime())

	before := in.users
	srv.Write(in.ID, t0.Add(time.Hour), func(w *Writer) {
		for range 1200 {
			w.AddUser(org, true, StateLocked)
		}
	})
	assert.Len(t, list(&adminpb.ListEventsRequest{Limit: 5000, Asc: true}), 1000, "more than 1000 is 1000")

	_, err = admin.ListEvents(withToken(pat), &adminpb.ListEventsRequest{AggregateTypes: make([]string, 11)})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, 1203, org.Users, "the writes changed what the counts read too")
	assert.Equal(t, 1200, org.States.Machines[StateLocked])
	assert.Equal(t, before+1200, in.users, "and the instance's totals")
}
