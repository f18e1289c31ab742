package zitadelevent

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateCursorRoundTripsAndRefusesDamage(t *testing.T) {
	now := time.Now().UTC()
	c := NewDateCursor(now.Add(-time.Hour))
	c.Seen[DateKey{AggregateHash: c.Hash("user-1"), Sequence: 7}] = now.Add(-time.Minute)
	good := c.Encode()
	back, err := DecodeDateCursor(good, now)
	require.NoError(t, err)
	assert.Equal(t, c.Key, back.Key)
	assert.True(t, c.At.Equal(back.At))
	assert.Len(t, back.Seen, 1)
	assert.NotContains(t, string(good), "user-1", "aggregate ids are hashed")

	far := NewDateCursor(time.Unix(1<<62, 0)).Encode()
	for name, bad := range map[string]Cursor{
		"another reader's": Cursor("zitadel.db.events.v1\x031.5\x00"),
		"cut off":          good[:len(good)-1],
		"trailing bytes":   append(append(Cursor(nil), good...), 0),
		"a date 2^62 s":    far,
		"nanoseconds 1e9":  append(append(Cursor(nil), good[:len(dateCursorFormat)+16]...), 2, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0),
	} {
		_, err := DecodeDateCursor(bad, now)
		assert.Error(t, err, name)
	}
}

func TestPlausible(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{now, true},
		{now.Add(MaxClockAhead), true},
		{now.Add(MaxClockAhead + time.Second), false},
		{time.Unix(1<<62, 0), false},
		{time.Unix(0, 0), false},
		{time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		assert.Equal(t, c.want, Plausible(c.at, now), c.at)
	}
}

func TestEachFieldReadsWhatTheReadersBuild(t *testing.T) {
	got := map[string]string{}
	err := EachField([]byte(`{"userID": "u\"1", "authMethods": [4, 1], "n": {"a": [1, {"b": 2}]}, "x":null}`), func(k string, v []byte) {
		got[k] = string(v)
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"userID": `"u\"1"`, "authMethods": `[4, 1]`, "n": `{"a": [1, {"b": 2}]}`, "x": "null"}, got)
	assert.Equal(t, `u"1`, String([]byte(got["userID"])))
	assert.Equal(t, []int{4, 1}, AppendInts(nil, []byte(got["authMethods"])))
	for _, bad := range []string{`[1]`, `{"a"}`, `{"a":1`, `{"a":1}x`, `{"a":` + deep(40) + `}`} {
		assert.Error(t, EachField([]byte(bad), func(string, []byte) {}), bad)
	}
	assert.Equal(t, `"a\u003cb\n"`, string(AppendString(nil, "a<b\n")))
}

func deep(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}
