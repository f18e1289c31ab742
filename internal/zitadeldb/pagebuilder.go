package zitadeldb

import (
	"reflect"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// pageBuilder gathers a page's rows as records without pointers, their
// text and their payloads in blocks of their own, and makes the events once
// the page is complete: a page of 100,000 events costs a few allocations,
// holds each byte once (a text block becomes one string, a payload a slice
// of its block), and holds nothing the garbage collector scans (or a write
// barrier slows) until its one slice of events is made.
type pageBuilder struct {
	// rows come in chunks, which a page grows by without copying.
	rows     [][]row
	n        int
	blocks   [][]byte // text: positions, ids, creators, names past maxNames
	payloads [][]byte
	// names are the strings that repeat (types and owners), up to
	// maxNames; index is where each lies in names.
	names []string
	index map[string]int32
	size  int // bytes held, roughly
}

// row is one event of a page without its instance: its numbers, and where
// its strings lie.
type row struct {
	block, payloadBlock                     int32
	aggregateType, eventType, owner         text
	position, aggregateID, creator, payload text
	hasPayload                              bool
	sequence                                uint64
	createdSec                              int64
	createdNsec                             int32
}

// text is where a string lies: [start, end) in its row's block (a
// payload: in its payload block), or with end < 0 the name -end-1.
type text struct{ start, end int32 }

// A page's first chunk and block are small, and each next one twice the
// last up to these, so that a read of a few events allocates a few
// kilobytes and one of 100,000 about a hundred chunks and blocks.
const (
	firstChunkRows  = 64
	chunkRows       = 4096
	firstBlockBytes = 16 << 10
	blockBytes      = 1 << 20
	maxNames        = 4096
)

// perEventBytes is what an event costs a page besides its text.
var perEventBytes = int(reflect.TypeFor[zitadelevent.Event]().Size() + reflect.TypeFor[row]().Size())

// add keeps one event; its byte slices are the row's raw values, which
// live until the next row only.
func (b *pageBuilder) add(aggregateType, eventType, owner, position, aggregateID, creator, payload []byte, seq uint64, created time.Time) {
	// An event's strings share a block.
	text := len(aggregateType) + len(eventType) + len(owner) + len(position) + len(aggregateID) + len(creator)
	r := row{
		block:         room(&b.blocks, text),
		aggregateType: b.name(aggregateType), eventType: b.name(eventType), owner: b.name(owner),
		position: b.appendText(position), aggregateID: b.appendText(aggregateID), creator: b.appendText(creator),
		hasPayload: payload != nil, sequence: seq, createdSec: created.Unix(), createdNsec: int32(created.Nanosecond()),
	}
	if r.hasPayload {
		r.payloadBlock = room(&b.payloads, len(payload))
		r.payload = appendTo(&b.payloads[r.payloadBlock], payload)
	}
	if len(b.rows) == 0 || len(b.rows[len(b.rows)-1]) == cap(b.rows[len(b.rows)-1]) {
		size := firstChunkRows
		if len(b.rows) > 0 {
			size = min(2*cap(b.rows[len(b.rows)-1]), chunkRows)
		}
		b.rows = append(b.rows, make([]row, 0, size))
	}
	c := &b.rows[len(b.rows)-1]
	*c = append(*c, r)
	b.n++
	b.size += text + len(payload) + perEventBytes
}

// room makes sure the last of blocks has need bytes free, starting a block
// twice the last one's size (up to blockBytes) when not, and returns its
// index.
func room(blocks *[][]byte, need int) int32 {
	bs := *blocks
	if len(bs) == 0 || cap(bs[len(bs)-1])-len(bs[len(bs)-1]) < need {
		size := firstBlockBytes
		if len(bs) > 0 {
			size = min(2*cap(bs[len(bs)-1]), blockBytes)
		}
		*blocks = append(bs, make([]byte, 0, max(size, need)))
	}
	return int32(len(*blocks) - 1)
}

// appendTo appends v to blk and returns where it lies.
func appendTo(blk *[]byte, v []byte) text {
	start := len(*blk)
	*blk = append(*blk, v...)
	return text{int32(start), int32(len(*blk))}
}

// name shares a string that repeats; past maxNames it is the row's text.
func (b *pageBuilder) name(v []byte) text {
	if i, ok := b.index[string(v)]; ok {
		return text{end: -i - 1}
	}
	if len(b.names) >= maxNames {
		return b.appendText(v)
	}
	if b.index == nil {
		b.index = make(map[string]int32)
	}
	s := string(v)
	b.index[s] = int32(len(b.names))
	b.names = append(b.names, s)
	return text{end: -int32(len(b.names))}
}

func (b *pageBuilder) appendText(v []byte) text { return appendTo(&b.blocks[len(b.blocks)-1], v) }

// events is the page: one slice of events of the instance, their strings
// names or slices of one string per text block, their payloads slices of
// the payload blocks.
func (b *pageBuilder) events(instanceID string) []zitadelevent.Event {
	if b.n == 0 {
		return nil
	}
	texts := make([]string, len(b.blocks))
	for i, blk := range b.blocks {
		texts[i] = string(blk)
	}
	out := make([]zitadelevent.Event, b.n)
	k := 0
	for _, c := range b.rows {
		for i := range c {
			b.fill(&out[k], instanceID, texts, &c[i])
			k++
		}
	}
	return out
}

// fill makes e of r, in place: a page's events are written once.
func (b *pageBuilder) fill(e *zitadelevent.Event, instanceID string, texts []string, r *row) {
	block := texts[r.block]
	str := func(t text) string {
		if t.end < 0 {
			return b.names[-t.end-1]
		}
		return block[t.start:t.end]
	}
	*e = zitadelevent.Event{
		InstanceID:    instanceID,
		AggregateType: str(r.aggregateType),
		AggregateID:   str(r.aggregateID),
		Sequence:      r.sequence,
		Type:          str(r.eventType),
		CreatedAt:     time.Unix(r.createdSec, int64(r.createdNsec)).UTC(),
		Owner:         str(r.owner),
		Creator:       str(r.creator),
		Position:      str(r.position),
	}
	if r.hasPayload {
		e.Payload = b.payloads[r.payloadBlock][r.payload.start:r.payload.end:r.payload.end]
	}
}
