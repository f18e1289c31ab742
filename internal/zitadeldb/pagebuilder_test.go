package zitadeldb

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// TestPageBuilderKeepsEveryEventAsRead builds a page the way a read does,
// from one buffer overwritten for every row as pgx's raw values are: more
// distinct owners and types than it shares, events spanning several blocks
// and chunks, payloads absent, empty and large. Every event comes back as
// it was added, in order.
func TestPageBuilderKeepsEveryEventAsRead(t *testing.T) {
	const n = 3*chunkRows + 7
	created := time.Date(2026, 12, 6, 10, 0, 0, 123456000, time.UTC)
	var b pageBuilder
	var want []zitadelevent.Event
	var buf []byte // the row's raw values, overwritten by the next row
	for i := range n {
		s := strconv.Itoa(i)
		e := zitadelevent.Event{
			InstanceID: "i1", AggregateType: "user", AggregateID: "agg-" + s, Sequence: uint64(i),
			Type: "type-" + strconv.Itoa(i%(maxNames+500)), CreatedAt: created.Add(time.Duration(i) * time.Microsecond),
			Owner: "org-" + s, Creator: "creator-" + s, Position: "1765000000." + s,
		}
		switch i % 3 {
		case 0: // no payload
		case 1:
			e.Payload = []byte{}
		case 2:
			e.Payload = bytes.Repeat([]byte("x"), 1+i*37%(64<<10))
		}
		want = append(want, e)
		buf = buf[:0]
		var spans [][2]int
		for _, v := range []string{e.AggregateType, e.Type, e.Owner, e.Position, e.AggregateID, e.Creator, string(e.Payload)} {
			spans = append(spans, [2]int{len(buf), len(buf) + len(v)})
			buf = append(buf, v...)
		}
		raw := func(k int) []byte { return buf[spans[k][0]:spans[k][1]:spans[k][1]] }
		var payload []byte
		if e.Payload != nil {
			payload = raw(6)
		}
		b.add(raw(0), raw(1), raw(2), raw(3), raw(4), raw(5), payload, e.Sequence, e.CreatedAt)
		for j := range buf {
			buf[j] = '#'
		}
	}
	require.Greater(t, len(b.blocks), 2, "the page spans several blocks")
	require.Len(t, b.names, maxNames, "names beyond maxNames stay the rows' text")
	got := b.events("i1")
	require.Len(t, got, n)
	for i := range want {
		require.Equal(t, want[i], got[i], "event %d", i)
	}
}
