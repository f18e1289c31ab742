package zitadelapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

const (
	// maxEventPage is ZITADEL's largest ListEvents page.
	maxEventPage = 1000
	// eventOverlap is how far before its cursor every read starts: a push
	// that began before the cursor's event and was written after it comes
	// after it in ZITADEL's order with an earlier creation date
	// (zitadelevent.CreationMargin), and every event of one write shares one
	// creation date, so a read can end inside a write. Events are
	// de-duplicated on (aggregate id, sequence).
	eventOverlap = zitadelevent.CreationMargin
	// dateResolution is the precision of ZITADEL's creation dates
	// (PostgreSQL's timestamptz).
	dateResolution = time.Microsecond
	// maxListEventTypes and maxListAggregateTypes are the longest type
	// lists ListEvents takes; a longer one is refused with InvalidArgument.
	maxListEventTypes     = 30
	maxListAggregateTypes = 10
)

// changeAggregates are the aggregate types whose events can change a count:
// everything an organization owns, and the instance's own resources.
// Sessions are left out (they change with time too, so they are counted at
// every scrape); at most maxListAggregateTypes.
var changeAggregates = []string{"org", "user", "project", "usergrant", "action", "instance", "execution", "target"}

// eventKey identifies an event: sequences are per aggregate. A read that
// keeps no aggregate ids names the aggregate by aggregateHash instead.
type eventKey struct {
	aggregateID   string
	aggregateHash uint64
	sequence      uint64
}

// latestEventTime returns the creation date of the instance's newest event,
// zero when it has none.
func (c *client) latestEventTime(ctx context.Context, sc scope) (time.Time, error) {
	resp := &adminpb.ListEventsResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_ListEvents_FullMethodName,
		&adminpb.ListEventsRequest{Limit: 1, Asc: false}, resp)
	if err != nil || len(resp.GetEvents()) == 0 {
		return time.Time{}, err
	}
	return resp.GetEvents()[0].GetCreationDate().AsTime(), nil
}

// listEventsAfter returns one page of the events created strictly after
// since (all when since is zero), oldest first.
func (c *client) listEventsAfter(ctx context.Context, sc scope, since time.Time, rd eventRead) ([]*eventpb.Event, error) {
	req := &adminpb.ListEventsRequest{Limit: uint32(rd.pageSize), Asc: true, AggregateTypes: rd.aggregateTypes, EventTypes: rd.eventTypes}
	if !since.IsZero() {
		req.CreationDateFilter = &adminpb.ListEventsRequest_Range{
			Range: &adminpb.ListEventsRequestCreationDateRange{Since: timestamppb.New(since)},
		}
	}
	resp := &adminpb.ListEventsResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_ListEvents_FullMethodName, req, resp)
	return resp.GetEvents(), err
}

// changes is what the events since the last scrape say.
type changes struct {
	any      bool            // any event at all: the instance totals may have changed
	orgs     map[string]bool // organizations to count again
	removed  map[string]bool // organizations removed
	defaults bool            // the instance's default login policy changed
	cursor   time.Time
	seen     map[eventKey]time.Time
}

// stuckError says the events cannot be read past a point.
type stuckError struct {
	page int
	at   time.Time
}

func (e stuckError) Error() string {
	return fmt.Sprintf("more than %d events (a page) share the creation date %s and cannot be paged through",
		e.page, e.at.UTC().Format(time.RFC3339Nano))
}

// readChanges pages through the events after the previous cursor, less the
// overlap, in pages of pageSize, skipping the events already taken into
// account.
func (c *client) readChanges(ctx context.Context, sc scope, instanceID string, prev *instanceState, pageSize int) (*changes, error) {
	ch := &changes{orgs: map[string]bool{}, removed: map[string]bool{}}
	since := prev.cursor
	if !since.IsZero() {
		since = since.Add(-eventOverlap)
	}
	rd := eventRead{aggregateTypes: changeAggregates, pageSize: pageSize, now: time.Now()}
	pos, _, err := c.readEvents(ctx, sc, rd, since, eventPosition{cursor: prev.cursor, seen: prev.seen},
		func(e *eventpb.Event) { ch.note(e, instanceID) })
	if err != nil {
		return nil, err
	}
	ch.cursor, ch.seen = pos.cursor, pos.seen
	return ch, nil
}

// eventRead is what a read asks ListEvents for.
type eventRead struct {
	aggregateTypes []string
	eventTypes     []string
	pageSize       int
	// maxPages bounds the pages of one read; 0 reads to the newest event.
	maxPages int
	// aggregateHash, when set, replaces aggregate ids in the kept position
	// by their keyed hash, for aggregates whose ids are user ids.
	aggregateHash func(string) uint64
	// now is the collector's clock: creation dates zitadelevent.Plausible
	// refuses at it are left out, and the position never moves to them.
	now time.Time
}

// eventPosition is how far the events are read: the newest creation date
// taken into account, and the events read within the overlap before it.
type eventPosition struct {
	cursor time.Time
	seen   map[eventKey]time.Time
	// refused counts the events left out for an impossible date.
	refused int
}

// readEvents pages through the events created strictly after since, oldest
// first, hands each event not in pos.seen to take, and returns the new
// position and whether the newest event was reached. A page shorter than
// asked for is the last one. pos is not changed.
func (c *client) readEvents(ctx context.Context, sc scope, rd eventRead, since time.Time, pos eventPosition, take func(*eventpb.Event)) (eventPosition, bool, error) {
	next := eventPosition{cursor: pos.cursor, seen: make(map[eventKey]time.Time, len(pos.seen))}
	for k, t := range pos.seen {
		next.seen[k] = t
	}
	// Every page after the first starts a margin before the previous page's
	// last date (nextSince), so that the rest of a write that page ended in,
	// and a push that began before it and was written after it, are read
	// too. Pages that brought nothing new (the overlap read again) do not
	// count against maxPages, so that every read moves forward.
	end, taken := false, 0
	for pages := 0; rd.maxPages == 0 || pages < rd.maxPages || taken == 0; pages++ {
		page, err := c.listEventsFitting(ctx, sc, since, &rd)
		if err != nil {
			return eventPosition{}, false, err
		}
		taken += next.takeNew(page, rd, take)
		// Pages run forward, so what lies before the overlap now is never
		// read again: the kept events stay about a page, however long the read.
		next.forgetBeforeOverlap()
		if len(page) < rd.pageSize {
			end = true
			break
		}
		first, last, ok := plausibleDates(page, rd.now)
		if !ok {
			return eventPosition{}, false, fmt.Errorf("a full page of %d events has only impossible creation dates", len(page))
		}
		after := nextSince(first, last)
		if !after.After(since) {
			// One write has more events than a page: no page gets past it.
			return eventPosition{}, false, stuckError{page: rd.pageSize, at: last}
		}
		since = after
	}
	return next, end, nil
}

// nextSince is where the page after one whose events were created from
// first to last starts. ListEvents orders events by ZITADEL's position and
// filters them by creation date, which is the start of the pushing
// statement: a push that began before last's and was written after it comes
// after the page with an earlier creation date. The page after reaches back
// for it by zitadelevent.CreationMargin, or by a tenth of the page's span
// when that is shorter, so that what is read again stays about a tenth of a
// page (a busy instance's pages span seconds); the overlap every read starts
// with covers the rest.
func nextSince(first, last time.Time) time.Time {
	margin := min(zitadelevent.CreationMargin, last.Sub(first)/10)
	return last.Add(-max(margin, dateResolution))
}

// listEventsFitting returns one page as listEventsAfter does, halving
// rd.pageSize while the answer is larger than the client may receive:
// events carry payloads of any size.
func (c *client) listEventsFitting(ctx context.Context, sc scope, since time.Time, rd *eventRead) ([]*eventpb.Event, error) {
	for {
		page, err := c.listEventsAfter(ctx, sc, since, *rd)
		switch {
		case !answerTooLarge(err):
			return page, err
		case rd.pageSize == 1:
			return nil, fmt.Errorf("one event after %s is larger than the client receives: %w",
				since.UTC().Format(time.RFC3339Nano), err)
		}
		rd.pageSize /= 2
	}
}

// takeNew hands each event of a page not seen before to take, and moves the
// position past it.
func (pos *eventPosition) takeNew(page []*eventpb.Event, rd eventRead, take func(*eventpb.Event)) int {
	n := 0
	for _, e := range page {
		k := eventKey{aggregateID: e.GetAggregate().GetId(), sequence: e.GetSequence()}
		if rd.aggregateHash != nil {
			k.aggregateID, k.aggregateHash = "", rd.aggregateHash(k.aggregateID)
		}
		if _, dup := pos.seen[k]; dup {
			continue
		}
		at := e.GetCreationDate().AsTime()
		if !zitadelevent.Plausible(at, rd.now) {
			pos.refused++
			continue
		}
		pos.seen[k] = at
		take(e)
		n++
		if at.After(pos.cursor) {
			pos.cursor = at
		}
	}
	return n
}

// plausibleDates are the earliest possible creation date of a page's
// events and that of its last event with a possible one; ok is false when
// none is possible.
func plausibleDates(page []*eventpb.Event, now time.Time) (first, last time.Time, ok bool) {
	for _, e := range page {
		at := e.GetCreationDate().AsTime()
		if !zitadelevent.Plausible(at, now) {
			continue
		}
		if !ok || at.Before(first) {
			first = at
		}
		last, ok = at, true
	}
	return first, last, ok
}

// forgetBeforeOverlap keeps only the events the next read overlaps.
func (pos *eventPosition) forgetBeforeOverlap() {
	for k, t := range pos.seen {
		if !t.After(pos.cursor.Add(-eventOverlap)) {
			delete(pos.seen, k)
		}
	}
}

// note takes one event into account: the organization it belongs to is to
// be counted again.
func (ch *changes) note(e *eventpb.Event, instanceID string) {
	ch.any = true
	agg := e.GetAggregate()
	typ := e.GetType().GetType()
	switch {
	case agg.GetType().GetType() == "org":
		ch.orgs[agg.GetId()] = true
		if typ == "org.removed" {
			ch.removed[agg.GetId()] = true
		}
	case agg.GetResourceOwner() != "" && agg.GetResourceOwner() != instanceID:
		ch.orgs[agg.GetResourceOwner()] = true
	case strings.HasPrefix(typ, "instance.policy.login."):
		ch.defaults = true
	}
}
