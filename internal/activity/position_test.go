package activity

import (
	"encoding/binary"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// v2State is a state as the previous format wrote it: the read position a
// creation date in UnixNano and the events read before it by hex hash.
func v2State(start, cursor time.Time, key []byte, seen map[string]uint64, seenAt time.Time) []byte {
	buf := []byte("zitadel.activity.v2") // the previous format's name, as v2 states begin
	buf = appendTime(buf, start)
	buf = appendTime(buf, cursor)
	buf = appendBool(buf, true)
	buf = appendBool(buf, false)
	buf = storedform.AppendBytes(buf, key)
	buf = binary.AppendUvarint(buf, uint64(len(seen)))
	for id, seq := range seen {
		buf = storedform.AppendBytes(buf, id)
		buf = binary.AppendUvarint(buf, seq)
		buf = appendTime(buf, seenAt)
	}
	for range 4 { // no logins, checks, lockouts or users
		buf = binary.AppendUvarint(buf, 0)
	}
	return buf
}

func TestAStateOfTheFormerFormatReadsOnWhereItWas(t *testing.T) {
	key := []byte("0123456789abcdef")
	in := newInstance(time.Now(), false, key)
	h := in.hashID("user-1")
	now := time.Now().UTC().Truncate(time.Microsecond)
	data := v2State(now.Add(-time.Hour), now.Add(-time.Minute), key, map[string]uint64{strconv.FormatUint(h, 16): 3}, now.Add(-time.Minute))

	got, err := Unmarshal(data)
	require.NoError(t, err)
	assert.True(t, got.CaughtUp)
	c, err := zitadelevent.DecodeDateCursor(got.Position.Cursor, time.Now())
	require.NoError(t, err)
	assert.True(t, now.Add(-time.Minute).Equal(c.At))
	assert.Equal(t, map[zitadelevent.DateKey]time.Time{{AggregateHash: h, Sequence: 3}: c.At}, c.Seen)
	assert.Equal(t, h, c.Hash("user-1"), "the same key hashes the same ids")

	again, err := Unmarshal(got.Marshal())
	require.NoError(t, err)
	assert.Equal(t, got.Position, again.Position, "stored again in the current format")
}

// A former state whose position wrapped to 1970 (a far-future date beyond
// UnixNano) is refused as damaged rather than read from 1970 again.
func TestAFormerStateWithAWrappedPositionIsRefused(t *testing.T) {
	wrapped := time.Unix(0, 0).Add(-1 << 62)
	_, err := Unmarshal(v2State(time.Now().Add(-time.Hour), wrapped, []byte("0123456789abcdef"), nil, time.Time{}))
	require.ErrorContains(t, err, "read position")
}
