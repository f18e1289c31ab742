package zitadelapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

func TestEventReaderPagesWithNamedFieldsAndRefusesImpossibleDates(t *testing.T) {
	srv, in, now := fakeWithADay(t)
	// A date 2^62 seconds after 1970, beyond what UnixNano holds.
	srv.Write(in.ID, time.Unix(1<<62, 0), func(w *fakezitadel.Writer) {
		w.Login(fakezitadel.Login{UserID: "zed", Org: in.Orgs[0], ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
	})

	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{model.ResourceOrganization}))
	r := s.client.eventReader(scope{}, 6) // one write of writeDay has five logins
	q := zitadelevent.Query{
		InstanceID: in.ID, Since: now.Add(-24 * time.Hour), Limit: 6,
		EventTypes:    []string{"oidc_session.added", "saml_session.added"},
		PayloadFields: map[string][]string{"oidc_session.added": {"clientID", "userResourceOwner"}},
	}
	var events []zitadelevent.Event
	refused := 0
	for range 10 {
		page, err := r.Read(t.Context(), q)
		require.NoError(t, err)
		events = append(events, page.Events...)
		refused += page.Refused
		q.After = page.Next
		if !page.More {
			break
		}
	}
	require.Len(t, events, 6, "every login once, across pages")
	assert.Positive(t, refused, "the login dated 2^62 s is refused")
	assert.JSONEq(t, `{"clientID":"app-web","userResourceOwner":"`+in.Orgs[0].ID+`"}`, string(events[0].Payload))
	assert.Equal(t, in.ID, events[0].InstanceID)
	for _, e := range events {
		assert.NotContains(t, string(e.Payload), "userAgent")
	}

	// Read again from the stored cursor: nothing is repeated, the cursor
	// stays where it was, far from year 146,138,514,283.
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	assert.Empty(t, page.Events)
	cur, err := zitadelevent.DecodeDateCursor(page.Next, time.Now())
	require.NoError(t, err)
	assert.WithinDuration(t, now.Add(-3*time.Hour), cur.At, 2*time.Second)
}

// The editor's user id is the event's creator; ZITADEL's own writes have none.
func TestEventReaderTellsTheEditor(t *testing.T) {
	srv, in, now := fakeWithADay(t)

	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{model.ResourceOrganization}))
	r := s.client.eventReader(scope{}, 100)
	q := zitadelevent.Query{
		InstanceID: in.ID, Since: now.Add(-24 * time.Hour), Limit: 100,
		EventTypes: []string{"user.human.password.check.succeeded", "oidc_session.added"},
	}
	page, err := r.Read(t.Context(), q)
	require.NoError(t, err)
	checks := 0
	for _, e := range page.Events {
		switch e.Type {
		case "user.human.password.check.succeeded":
			checks++
			assert.Equal(t, e.AggregateID, e.Creator, "the user checked their own password")
		default:
			assert.Empty(t, e.Creator, "ZITADEL wrote the session itself")
		}
	}
	assert.Positive(t, checks)
}

// fakeWithADay is a fake ZITADEL of one instance with a day of logins
// written three hours ago.
func fakeWithADay(t *testing.T) (*fakezitadel.Server, *fakezitadel.Instance, time.Time) {
	t.Helper()
	return fakeWithADayAgo(t, 3*time.Hour)
}

// fakeWithADayAgo is a fake ZITADEL of one instance with a day of logins
// written ago before now, which it returns.
func fakeWithADayAgo(t *testing.T, ago time.Duration) (*fakezitadel.Server, *fakezitadel.Instance, time.Time) {
	t.Helper()
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	now := time.Now().UTC()
	writeDay(srv, in, now.Add(-ago))
	return srv, in, now
}

// ListEvents refuses more than 30 event types or 10 aggregate types; a
// longer list is read whole and narrowed by the reader, to the same events.
func TestEventReaderNarrowsListsLongerThanListEventsTakes(t *testing.T) {
	srv, in, now := fakeWithADay(t)
	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{model.ResourceOrganization}))
	read := func(q zitadelevent.Query) []zitadelevent.Event {
		t.Helper()
		q.InstanceID, q.Since, q.Limit = in.ID, now.Add(-24*time.Hour), 1000
		page, err := s.client.eventReader(scope{}, 1000).Read(t.Context(), q)
		require.NoError(t, err)
		require.False(t, page.More)
		return page.Events
	}
	padded := func(names []string, n int) []string {
		for i := len(names); i < n; i++ {
			names = append(names, fmt.Sprintf("made.up.%d", i))
		}
		return names
	}
	want := read(zitadelevent.Query{AggregateTypes: []string{"oidc_session"}, EventTypes: []string{"oidc_session.added"}})
	require.NotEmpty(t, want)
	got := read(zitadelevent.Query{
		AggregateTypes: padded([]string{"oidc_session"}, 11),
		EventTypes:     padded([]string{"oidc_session.added"}, 31),
	})
	assert.Equal(t, want, got)
	got = read(zitadelevent.Query{
		AggregateTypes: padded([]string{"oidc_session"}, 10),
		EventTypes:     padded([]string{"oidc_session.added"}, 30),
	})
	assert.Equal(t, want, got, "lists ListEvents takes are sent as they are")
}

// ListEvents orders events by ZITADEL's position and filters them by
// creation date, and a push's creation date is the start of its statement:
// a push that began just before another and inserted just after it comes
// after it with an earlier creation date. Where a page ends between the
// two, the next page must still find it, also when the read goes on for
// more than the minute every read starts with.
func TestEventReaderFindsAPushThatBeganBeforeThePageEnd(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := startFake(t, spec, fakezitadel.Options{})
	in := srv.Dataset().Instances[0]
	start := time.Now().UTC().Add(-time.Hour)
	login := func(at time.Time, user string) {
		srv.Write(in.ID, at, func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{UserID: user, Org: in.Orgs[0], ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
		})
	}
	for i := range 10 {
		login(start.Add(time.Duration(i)*30*time.Second), fmt.Sprint("u", i))
		if i == 4 {
			// Began 300 ms before the fifth login's write, inserted after it.
			login(start.Add(4*30*time.Second-300*time.Millisecond), "late")
		}
	}
	q := zitadelevent.Query{InstanceID: in.ID, Since: start.Add(-time.Minute), Limit: 100, EventTypes: []string{"oidc_session.added"}}
	page, err := startSource(t, testConfig(srv), model.NewResourceFilter([]string{model.ResourceOrganization})).
		client.eventReader(scope{}, 5).Read(t.Context(), q) // pages of five logins: the first ends at the fifth
	require.NoError(t, err)
	assert.Len(t, page.Events, 11, "every login once, the one that began before the first page's end included")
}
