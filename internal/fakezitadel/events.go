package fakezitadel

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
)

// Aggregate types of the events the fake writes, ZITADEL's names.
const (
	AggregateInstance  = "instance"
	AggregateOrg       = "org"
	AggregateUser      = "user"
	AggregateProject   = "project"
	AggregateUserGrant = "usergrant"
	AggregateAction    = "action"
	AggregateExecution = "execution"
)

// ListEvents limits, as ZITADEL's admin API enforces them.
const (
	maxEventsPerPage      = 1000
	maxEventAggregateType = 10
	maxEventTypes         = 30
)

// Event is one entry of an instance's event store.
type Event struct {
	AggregateID, AggregateType, ResourceOwner, Type string
	// Sequence counts the aggregate's events: it is no global order.
	Sequence  uint64
	CreatedAt time.Time
	// Creator is the editor's user id; empty where ZITADEL wrote the event
	// itself.
	Creator string
	// Payload is the event's JSON payload; nil for events without one.
	Payload map[string]any
}

// record appends an event at t, numbering it within its aggregate.
func (in *Instance) record(t time.Time, e Event) {
	in.sequences[e.AggregateID]++
	e.Sequence = in.sequences[e.AggregateID]
	e.CreatedAt = t
	in.events = append(in.events, e)
}

// Events returns the instance's events in ZITADEL's order, the position:
// the order they were written in, whatever their creation dates (a push's
// creation date is the start of its statement, so one that began first may
// be written after another).
func (in *Instance) Events() []Event { return slices.Clone(in.events) }

// ListEvents answers from the instance's events with ZITADEL's semantics:
// every date filter strict, a limit of 0 or above 1000 read as 1000, no
// total and no cursor.
func (a adminService) ListEvents(ctx context.Context, req *adminpb.ListEventsRequest) (*adminpb.ListEventsResponse, error) {
	if len(req.GetAggregateTypes()) > maxEventAggregateType {
		return nil, status.Errorf(codes.InvalidArgument, "Errors.Events.AggregateTypes.TooMany: %d > %d", len(req.GetAggregateTypes()), maxEventAggregateType)
	}
	if len(req.GetEventTypes()) > maxEventTypes {
		return nil, status.Errorf(codes.InvalidArgument, "Errors.Events.EventTypes.TooMany: %d > %d", len(req.GetEventTypes()), maxEventTypes)
	}
	limit := int(req.GetLimit())
	if limit == 0 || limit > maxEventsPerPage {
		limit = maxEventsPerPage
	}
	var after, before time.Time
	switch f := req.GetCreationDateFilter().(type) {
	case *adminpb.ListEventsRequest_Range:
		after, before = timeOf(f.Range.GetSince()), timeOf(f.Range.GetUntil())
	case *adminpb.ListEventsRequest_From:
		if req.GetAsc() {
			after = timeOf(f.From)
		} else {
			before = timeOf(f.From)
		}
	}
	events := infoFrom(ctx).inst.Events()
	// AuditLogRetention hides older events without an error.
	if cut := a.s.retainedSince(); !cut.IsZero() {
		events = slices.DeleteFunc(events, func(e Event) bool { return e.CreatedAt.Before(cut) })
	}
	if !req.GetAsc() {
		slices.Reverse(events)
	}
	out := make([]*eventpb.Event, 0, min(limit, len(events)))
	for _, e := range events {
		if len(out) == limit {
			break
		}
		switch {
		case !after.IsZero() && !e.CreatedAt.After(after),
			!before.IsZero() && !e.CreatedAt.Before(before),
			len(req.GetAggregateTypes()) > 0 && !slices.Contains(req.GetAggregateTypes(), e.AggregateType),
			len(req.GetEventTypes()) > 0 && !slices.Contains(req.GetEventTypes(), e.Type),
			req.GetAggregateId() != "" && req.GetAggregateId() != e.AggregateID,
			req.GetResourceOwner() != "" && req.GetResourceOwner() != e.ResourceOwner:
			continue
		}
		out = append(out, &eventpb.Event{
			Editor: &eventpb.Editor{UserId: e.Creator},
			Aggregate: &eventpb.Aggregate{
				Id: e.AggregateID, Type: &eventpb.AggregateType{Type: e.AggregateType}, ResourceOwner: e.ResourceOwner,
			},
			Sequence:     e.Sequence,
			CreationDate: timestamppb.New(e.CreatedAt),
			Type:         &eventpb.EventType{Type: e.Type},
			Payload:      payload(e.Payload),
		})
	}
	return &adminpb.ListEventsResponse{Events: out}, nil
}

func payload(p map[string]any) *structpb.Struct {
	if p == nil {
		return nil
	}
	st, err := structpb.NewStruct(p)
	if err != nil {
		panic("fakezitadel: payload: " + err.Error())
	}
	return st
}

func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
