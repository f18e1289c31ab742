package zitadelapi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/dchest/siphash"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	eventpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
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
	cur, err := decodeAPICursor(q.After, q.Since, now)
	if err != nil {
		return zitadelevent.Page{}, err
	}
	since := cur.pos.cursor
	if q.After != nil {
		since = since.Add(-eventOverlap)
	}
	rd := eventRead{aggregateTypes: q.AggregateTypes, eventTypes: q.EventTypes, pageSize: r.pageSize,
		maxPages: (q.Limit + r.pageSize - 1) / r.pageSize, aggregateHash: cur.hash, now: now}
	var page zitadelevent.Page
	next, end, err := r.c.readEvents(ctx, r.sc, rd, since, cur.pos, func(e *eventpb.Event) {
		page.Events = append(page.Events, eventOf(e, q))
	})
	if err != nil {
		return zitadelevent.Page{}, err
	}
	cur.pos = next
	page.Next, page.More, page.Refused = cur.encode(), !end, next.refused
	return page, nil
}

// eventOf is what a consumer sees of an event: its identity, type, time,
// owner, and the payload fields q names for its type.
func eventOf(e *eventpb.Event, q zitadelevent.Query) zitadelevent.Event {
	agg := e.GetAggregate()
	out := zitadelevent.Event{
		InstanceID:    q.InstanceID,
		AggregateType: agg.GetType().GetType(),
		AggregateID:   agg.GetId(),
		Sequence:      e.GetSequence(),
		Type:          e.GetType().GetType(),
		CreatedAt:     e.GetCreationDate().AsTime(),
		Owner:         agg.GetResourceOwner(),
		// Creator stays empty: the proto subset leaves the editor out
		// (its display name is personal).
	}
	fields := q.PayloadFields[out.Type]
	payload := e.GetPayload().GetFields()
	if len(fields) == 0 || payload == nil {
		return out
	}
	buf := []byte{'{'}
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
	out.Payload = append(buf, '}')
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

// apiCursorFormat starts every api cursor.
const apiCursorFormat = "zitadel.api.events.v1"

// apiCursor is the api reader's position: the newest creation date read,
// and the events read within the overlap before it. Their aggregates are
// named by a keyed hash (the key travels in the cursor), since a user's
// aggregate id is the user id. Dates are kept as seconds and nanoseconds,
// which no date overflows.
type apiCursor struct {
	key []byte
	pos eventPosition
}

func (c *apiCursor) hash(id string) uint64 {
	return siphash.Hash(binary.LittleEndian.Uint64(c.key), binary.LittleEndian.Uint64(c.key[8:]), []byte(id))
}

func (c *apiCursor) encode() zitadelevent.Cursor {
	buf := append([]byte(nil), apiCursorFormat...)
	buf = append(buf, c.key...)
	buf = appendDate(buf, c.pos.cursor)
	buf = binary.AppendUvarint(buf, uint64(len(c.pos.seen)))
	for k, at := range c.pos.seen {
		buf = binary.LittleEndian.AppendUint64(buf, k.aggregateHash)
		buf = binary.AppendUvarint(buf, k.sequence)
		buf = appendDate(buf, at)
	}
	return buf
}

func appendDate(buf []byte, t time.Time) []byte {
	buf = binary.AppendVarint(buf, t.Unix())
	return binary.AppendUvarint(buf, uint64(t.Nanosecond()))
}

// cursorKeySize is the size of SipHash's key.
const cursorKeySize = 16

// decodeAPICursor reads a cursor; without one the read starts after since
// with a new key. A cursor with a date no ZITADEL can have written is
// refused as damaged.
func decodeAPICursor(c zitadelevent.Cursor, since, now time.Time) (*apiCursor, error) {
	if c == nil {
		key := make([]byte, cursorKeySize)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		return &apiCursor{key: key, pos: eventPosition{cursor: since, seen: map[eventKey]time.Time{}}}, nil
	}
	if len(c) < len(apiCursorFormat)+cursorKeySize || string(c[:len(apiCursorFormat)]) != apiCursorFormat {
		return nil, errors.New("event read: the cursor is not one of the api source")
	}
	rest := c[len(apiCursorFormat):]
	out := &apiCursor{key: append([]byte(nil), rest[:cursorKeySize]...), pos: eventPosition{seen: map[eventKey]time.Time{}}}
	d := storedform.NewDecoder(rest[cursorKeySize:], "event cursor")
	out.pos.cursor = readDate(d, now)
	for range d.Count() {
		k := eventKey{aggregateHash: d.Uint64(), sequence: d.Uvarint()}
		out.pos.seen[k] = readDate(d, now)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return out, nil
}

func readDate(d *storedform.Decoder, now time.Time) time.Time {
	sec, nsec := d.Varint(), d.Below(1e9)
	t := time.Unix(sec, int64(nsec)).UTC()
	if d.Err() == nil && !zitadelevent.Plausible(t, now) {
		d.Fail("the date %d is not one ZITADEL can have written", sec)
	}
	return t
}
