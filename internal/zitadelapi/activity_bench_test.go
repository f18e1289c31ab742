package zitadelapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/cputime"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// passwordLoginPages are pages of ListEvents as a day of password logins
// fills them: each login an oidc_session.added with ZITADEL's payload (the
// user agent included) and the user's password.check.succeeded, for 100,000
// users of 100 organizations.
func passwordLoginPages(b *testing.B, pages int) []*adminpb.ListEventsResponse {
	b.Helper()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*adminpb.ListEventsResponse, pages)
	n := 0
	for p := range out {
		resp := &adminpb.ListEventsResponse{}
		for len(resp.Events) < maxEventPage {
			user, org := fmt.Sprintf("3%017d", n%100_000), fmt.Sprintf("2%017d", n%100)
			at = at.Add(1728 * time.Millisecond)
			payload, err := structpb.NewStruct(map[string]any{
				"userID": user, "userResourceOwner": org, "sessionID": fmt.Sprintf("4%017d", n), "clientID": "web-client",
				"audience": []any{"web-client"}, "scope": []any{"openid", "profile"}, "authMethods": []any{4.0},
				"authTime": at.Format(time.RFC3339Nano),
				"userAgent": map[string]any{"fingerprint_id": "fp-1", "ip": "203.0.113.7", "description": "Mozilla/5.0 (X11; Linux x86_64)",
					"header": map[string]any{"accept-language": []any{"de-CH"}}},
			})
			require.NoError(b, err)
			created := timestamppb.New(at)
			resp.Events = append(resp.Events,
				&eventpb.Event{Sequence: uint64(n/100_000 + 1), CreationDate: created, Type: &eventpb.EventType{Type: "user.human.password.check.succeeded"},
					Aggregate: &eventpb.Aggregate{Id: user, Type: &eventpb.AggregateType{Type: "user"}, ResourceOwner: org}},
				&eventpb.Event{Sequence: 1, CreationDate: created, Type: &eventpb.EventType{Type: activity.TypeOIDCSessionAdded},
					Aggregate: &eventpb.Aggregate{Id: fmt.Sprintf("V2_5%017d", n), Type: &eventpb.AggregateType{Type: "oidc_session"}, ResourceOwner: org},
					Payload:   payload})
			n++
		}
		out[p] = resp
	}
	return out
}

// BenchmarkActivityPerEvent is the client CPU of each event an activity read
// takes, on pages of a day of password logins: the de-duplication with the
// keyed hash of the aggregate id, the named payload fields of the Struct
// as a zitadelevent.Event reads them, the counters and the active users of the instance and of the
// organization. An op is one page of 1,000 events; ns/event is the figure.
// "with-wire-decoding" adds the protobuf decoding of the page, which the
// gRPC client does for any read. cpu-ns/event is the process's CPU time
// per event, garbage collection included, which a loaded machine does not
// inflate as it does the wall time.
func BenchmarkActivityPerEvent(b *testing.B) {
	pages := passwordLoginPages(b, 20)
	wire := make([][]byte, len(pages))
	for i, p := range pages {
		var err error
		wire[i], err = proto.Marshal(p)
		require.NoError(b, err)
	}
	rd := eventRead{aggregateTypes: activity.AggregateTypes(), eventTypes: activity.EventTypes(), pageSize: maxEventPage, now: time.Now()}
	// One position runs through the pages as through a long read; each page
	// is one read's events.
	pos := eventPosition{seen: map[eventKey]time.Time{}}
	q := zitadelevent.Query{PayloadFields: activity.PayloadFields()}
	var events []zitadelevent.Event
	count := func(in *activity.Instance, page []*eventpb.Event) {
		events = events[:0]
		var payloads payloadBlocks
		pos.takeNew(page, rd, func(e *eventpb.Event) { events = append(events, payloads.eventOf(e, q)) })
		pos.forgetBeforeOverlap()
		in.ApplyEvents(events)
	}
	newInstance := func() *activity.Instance {
		rd.aggregateHash = zitadelevent.NewDateCursor(time.Time{}).Hash
		return activity.NewInstance(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), true)
	}
	// ns/event is wall time; cpu-ns/event the process's CPU time (garbage
	// collection included), which other work on a busy machine does not inflate.
	var cpuStart time.Duration
	perEvent := func(b *testing.B) {
		events := float64(b.N * maxEventPage)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
		if cpu := cputime.ProcessCPU(); cpu > 0 {
			b.ReportMetric(float64((cpu-cpuStart).Nanoseconds())/events, "cpu-ns/event")
		}
	}

	b.Run("counting", func(b *testing.B) {
		in := newInstance()
		b.ReportAllocs()
		b.ResetTimer()
		cpuStart = cputime.ProcessCPU()
		for i := range b.N {
			count(in, pages[i%len(pages)].Events)
		}
		perEvent(b)
	})
	b.Run("with-wire-decoding", func(b *testing.B) {
		in := newInstance()
		b.ReportAllocs()
		b.ResetTimer()
		cpuStart = cputime.ProcessCPU()
		for i := range b.N {
			resp := &adminpb.ListEventsResponse{}
			if err := proto.Unmarshal(wire[i%len(wire)], resp); err != nil {
				b.Fatal(err)
			}
			count(in, resp.Events)
		}
		perEvent(b)
	})
}
