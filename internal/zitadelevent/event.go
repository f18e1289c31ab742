// Package zitadelevent is one event of ZITADEL's event store as the zitadel
// receiver reads it, from either source, and the reader both sources offer.
//
// The reader keeps no read position of its own: a consumer (the activity
// counters, the audit trail) holds its Cursor and stores it only once what it
// made of a page is safe, so a page is read again rather than lost.
//
// Two readers implement it: the api source's pages AdminService/ListEvents
// by creation date (its cursor a DateCursor), the database source's
// (zitadeldb.EventReader) reads eventstore.events2 in ZITADEL's own order
// after ZITADEL's advisory lock (its cursor the position and in_tx_order,
// and the event's identity among pushes of one position).
// Both leave out events whose creation date no ZITADEL can write
// (Plausible), and return of the payload only the fields a Query names:
// Fields steps through them.
package zitadelevent

import (
	"context"
	"errors"
	"time"
)

// Event is one row of eventstore.events2, or one event of AdminService/ListEvents.
// Its identity is (InstanceID, AggregateType, AggregateID, Sequence).
type Event struct {
	InstanceID    string
	AggregateType string
	AggregateID   string
	Sequence      uint64
	Type          string
	CreatedAt     time.Time
	// Owner is the resource owner: an organization id, or the instance id.
	Owner string
	// Creator is the editor's user id (on the api source ListEvents' editor);
	// empty where ZITADEL wrote the event itself.
	Creator string
	// Position is ZITADEL's global order of events (eventstore.events2's
	// position, as PostgreSQL wrote it); empty on the api source, whose
	// ListEvents does not return it.
	Position string
	// Payload is a JSON object holding only the payload fields a consumer
	// named for this event type; nil when none were named.
	Payload []byte
}

// Cursor is a reader's read position, opaque to consumers, stored as it is.
type Cursor []byte

// ErrCursor is the error of a read whose cursor the reader cannot use: one
// of another source's reader (the receiver's source changed over the same
// storage), or damaged. Reading on needs a new cursor.
var ErrCursor = errors.New("the read position cannot be used by this source's reader")

// Query asks for the events of one instance after a cursor, oldest first.
type Query struct {
	InstanceID string
	After      Cursor // nil: from Since
	// Since is where a read without a cursor starts: the look-back.
	Since          time.Time
	AggregateTypes []string // empty: every aggregate type
	EventTypes     []string // empty: every event type
	// PayloadFields names, per event type, the payload fields to return;
	// no other field is read.
	PayloadFields map[string][]string
	// Limit bounds the events of one page. The api source reads whole
	// ListEvents pages of 1,000 events, so it rounds Limit up to them.
	Limit int
}

// Page is one answer: the events, the cursor after the last of them, and
// whether more events were ready.
type Page struct {
	Events []Event
	Next   Cursor
	More   bool
	// Refused counts the events left out as damage: a creation date no
	// ZITADEL can write (see Plausible), or more bytes than a reader keeps
	// of one event. The cursor moves past them where it can.
	Refused int
}

// Reader reads ZITADEL's events without missing one that commits after a
// later one.
type Reader interface {
	Read(ctx context.Context, q Query) (Page, error)
}
