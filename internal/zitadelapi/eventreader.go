package zitadelapi

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// eventReader reads one instance's events through AdminService/ListEvents
// (events.read), which applies ZITADEL's guard against events that commit
// out of order itself. Pages run by creation date; each read starts
// eventOverlap before the cursor and leaves out the events the cursor names
// as read.
type eventReader struct {
	c        *client
	sc       scope
	pageSize int
	now      func() time.Time
}

var _ zitadelevent.Reader = (*eventReader)(nil)

// eventReader reads the events of the instance sc reaches.
func (c *client) eventReader(sc scope, pageSize int) *eventReader {
	return &eventReader{c: c, sc: sc, pageSize: pageSize, now: time.Now}
}

// Read returns the events after q.After: whole ListEvents pages, as many as
// q.Limit needs.
func (r *eventReader) Read(ctx context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	if q.Limit < 1 {
		return zitadelevent.Page{}, errors.New("event read: limit must be at least 1")
	}
	now := r.now()
	cur := zitadelevent.NewDateCursor(q.Since)
	since := q.Since
	if q.After != nil {
		var err error
		if cur, err = zitadelevent.DecodeDateCursor(q.After, now); err != nil {
			return zitadelevent.Page{}, err
		}
		since = cur.At.Add(-eventOverlap)
	}
	rd := eventRead{
		aggregateTypes: q.AggregateTypes, eventTypes: q.EventTypes, pageSize: r.pageSize,
		maxPages: (q.Limit + r.pageSize - 1) / r.pageSize, aggregateHash: cur.Hash, now: now,
	}
	asked := narrowHere(&rd)
	var page zitadelevent.Page
	var payloads payloadBlocks
	next, end, err := r.c.readEvents(ctx, r.sc, rd, since, positionOf(cur), func(e *eventpb.Event) {
		if asked.keep(e) {
			page.Events = append(page.Events, payloads.eventOf(e, q))
		}
	})
	if err != nil {
		return zitadelevent.Page{}, err
	}
	page.Next, page.More, page.Refused = cursorAt(cur.Key, next), !end, next.refused
	return page, nil
}

// typeSets are the type lists a read narrows itself, nil where ListEvents
// narrows.
type typeSets struct {
	eventTypes, aggregateTypes map[string]bool
}

// narrowHere takes a type list longer than ListEvents takes out of rd: the
// read then asks for every type of that kind, and the sets returned leave
// out what was not asked for.
func narrowHere(rd *eventRead) typeSets {
	var s typeSets
	if len(rd.eventTypes) > maxListEventTypes {
		s.eventTypes, rd.eventTypes = setOf(rd.eventTypes), nil
	}
	if len(rd.aggregateTypes) > maxListAggregateTypes {
		s.aggregateTypes, rd.aggregateTypes = setOf(rd.aggregateTypes), nil
	}
	return s
}

func setOf(names []string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

func (s typeSets) keep(e *eventpb.Event) bool {
	return (s.eventTypes == nil || s.eventTypes[e.GetType().GetType()]) &&
		(s.aggregateTypes == nil || s.aggregateTypes[e.GetAggregate().GetType().GetType()])
}

// payloadBlocks holds the payloads of a read in a few blocks: each
// payload is built in a scratch buffer and copied once into a block that
// never moves, so a page of 1,000 events costs a few allocations.
type payloadBlocks struct {
	scratch []byte
	block   []byte
}

// payloadBlock is the size of a block; a larger payload gets its own.
const payloadBlock = 64 << 10

func (p *payloadBlocks) keep(b []byte) []byte {
	if cap(p.block)-len(p.block) < len(b) {
		p.block = make([]byte, 0, max(payloadBlock, len(b)))
	}
	start := len(p.block)
	p.block = append(p.block, b...)
	return p.block[start:len(p.block):len(p.block)]
}

// eventOf is what a consumer sees of an event: its identity, type, time,
// owner, and the payload fields q names for its type.
func (p *payloadBlocks) eventOf(e *eventpb.Event, q zitadelevent.Query) zitadelevent.Event {
	agg := e.GetAggregate()
	out := zitadelevent.Event{
		InstanceID:    q.InstanceID,
		AggregateType: agg.GetType().GetType(),
		AggregateID:   agg.GetId(),
		Sequence:      e.GetSequence(),
		Type:          e.GetType().GetType(),
		CreatedAt:     e.GetCreationDate().AsTime(),
		Owner:         agg.GetResourceOwner(),
		Creator:       e.GetEditor().GetUserId(),
	}
	fields := q.PayloadFields[out.Type]
	payload := e.GetPayload().GetFields()
	if len(fields) == 0 || payload == nil {
		return out
	}
	buf := p.scratch[:0]
	buf = append(buf, '{')
	for _, f := range fields {
		v, ok := payload[f]
		if !ok {
			continue
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = zitadelevent.AppendString(buf, f)
		buf = append(buf, ':')
		buf = appendJSONValue(buf, v)
	}
	buf = append(buf, '}')
	p.scratch = buf
	out.Payload = p.keep(p.scratch)
	return out
}

func appendJSONValue(buf []byte, v *structpb.Value) []byte {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return zitadelevent.AppendString(buf, k.StringValue)
	case *structpb.Value_NumberValue:
		return strconv.AppendFloat(buf, k.NumberValue, 'g', -1, 64)
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(buf, k.BoolValue)
	case *structpb.Value_ListValue:
		buf = append(buf, '[')
		for i, e := range k.ListValue.GetValues() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONValue(buf, e)
		}
		return append(buf, ']')
	case *structpb.Value_StructValue:
		b, err := protojson.Marshal(k.StructValue)
		if err == nil {
			return append(buf, b...)
		}
	}
	return append(buf, "null"...)
}

// positionOf is a DateCursor as readEvents keeps it.
func positionOf(c *zitadelevent.DateCursor) eventPosition {
	pos := eventPosition{cursor: c.At, seen: make(map[eventKey]time.Time, len(c.Seen))}
	for k, at := range c.Seen {
		pos.seen[eventKey{aggregateHash: k.AggregateHash, sequence: k.Sequence}] = at
	}
	return pos
}

// cursorAt is pos as a DateCursor under key.
func cursorAt(key [16]byte, pos eventPosition) zitadelevent.Cursor {
	c := &zitadelevent.DateCursor{Key: key, At: pos.cursor, Seen: make(map[zitadelevent.DateKey]time.Time, len(pos.seen))}
	for k, at := range pos.seen {
		c.Seen[zitadelevent.DateKey{AggregateHash: k.aggregateHash, Sequence: k.sequence}] = at
	}
	return c.Encode()
}
