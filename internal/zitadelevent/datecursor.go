package zitadelevent

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dchest/siphash"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
)

// DateCursor is the read position of a reader that pages by creation date
// (the api source's ListEvents): the newest date read, and the events read
// just before it, which the next read overlaps and leaves out. A user's
// aggregate id is the user id, so aggregates are named by a keyed hash;
// the key travels with the cursor. Dates are kept as seconds and
// nanoseconds, which no date overflows.
type DateCursor struct {
	Key  [16]byte
	At   time.Time
	Seen map[DateKey]time.Time
}

// DateKey names one event read: its aggregate by keyed hash, and its sequence.
type DateKey struct {
	AggregateHash uint64
	Sequence      uint64
}

// dateCursorFormat starts every DateCursor.
const dateCursorFormat = "zitadel.events.date.v1"

// NewDateCursor starts before at with a fresh key.
func NewDateCursor(at time.Time) *DateCursor {
	c := &DateCursor{At: at, Seen: map[DateKey]time.Time{}}
	_, _ = rand.Read(c.Key[:]) // crypto/rand.Read never fails
	return c
}

// Hash is the keyed hash (SipHash-2-4) of an aggregate id.
func (c *DateCursor) Hash(id string) uint64 {
	return siphash.Hash(binary.LittleEndian.Uint64(c.Key[:8]), binary.LittleEndian.Uint64(c.Key[8:]), []byte(id))
}

// Encode is the cursor as a consumer stores it.
func (c *DateCursor) Encode() Cursor {
	buf := append([]byte(nil), dateCursorFormat...)
	buf = append(buf, c.Key[:]...)
	buf = appendDate(buf, c.At)
	buf = binary.AppendUvarint(buf, uint64(len(c.Seen)))
	for k, at := range c.Seen {
		buf = binary.LittleEndian.AppendUint64(buf, k.AggregateHash)
		buf = binary.AppendUvarint(buf, k.Sequence)
		buf = appendDate(buf, at)
	}
	return buf
}

func appendDate(buf []byte, t time.Time) []byte {
	buf = binary.AppendVarint(buf, t.Unix())
	return binary.AppendUvarint(buf, uint64(t.Nanosecond()))
}

// IsDateCursor tells a DateCursor from another reader's cursor.
func IsDateCursor(c Cursor) bool {
	return len(c) >= len(dateCursorFormat) && string(c[:len(dateCursorFormat)]) == dateCursorFormat
}

// DecodeDateCursor reads what Encode wrote. A damaged cursor, or one with a
// date no ZITADEL can have written by now, is refused.
func DecodeDateCursor(c Cursor, now time.Time) (*DateCursor, error) {
	if !IsDateCursor(c) || len(c) < len(dateCursorFormat)+16 {
		return nil, fmt.Errorf("%w: not a creation-date cursor", ErrCursor)
	}
	rest := c[len(dateCursorFormat):]
	out := &DateCursor{Seen: map[DateKey]time.Time{}}
	copy(out.Key[:], rest[:16])
	d := storedform.NewDecoder(rest[16:], "event cursor")
	out.At = readDate(d, now)
	for range d.Count() {
		k := DateKey{AggregateHash: d.Uint64(), Sequence: d.Uvarint()}
		out.Seen[k] = readDate(d, now)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCursor, err)
	}
	return out, nil
}

func readDate(d *storedform.Decoder, now time.Time) time.Time {
	sec, nsec := d.Varint(), d.Below(1e9)
	t := time.Unix(sec, int64(nsec)).UTC()
	if d.Err() == nil && !Plausible(t, now) {
		d.Fail("the date %d s is not one ZITADEL can have written", sec)
	}
	return t
}
