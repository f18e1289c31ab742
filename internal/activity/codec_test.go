package activity

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// The state as version 2 wrote it, without a checksum: two password logins
// of app@web in o1 at 01:00 on 2026-11-01, a failed password check, a
// lockout, users u1 and u2, read up to 01:00.
const stateV2 = "testdata/state.zitadel.activity.v2.bin"

// TestAStateOfThePreviousFormatIsRead: a collector upgraded over its storage
// keeps its counters, read position and users, and writes them again in
// the current format.
func TestAStateOfThePreviousFormatIsRead(t *testing.T) {
	data, err := os.ReadFile(stateV2)
	require.NoError(t, err)
	in, previous, err := unmarshal(data)
	require.NoError(t, err)
	require.True(t, previous)

	at := time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	r := in.Report(at)
	assert.Equal(t, at.Add(-time.Hour), r.Start)
	assert.Equal(t, []Login{{LoginKey{Protocol: ProtocolOIDC, Application: "app@web", Organization: "o1", Kind: KindSession}, 2}}, r.Logins)
	assert.Equal(t, []Check{{CheckKey{Organization: "o1", Factor: FactorPassword, Outcome: OutcomeFailed}, 1}}, r.Checks)
	assert.Equal(t, []Lockout{{"o1", 1}}, r.Lockouts)
	c, err := zitadelevent.DecodeDateCursor(in.Position.Cursor, at)
	require.NoError(t, err)
	assert.True(t, at.Equal(c.At), "read on from %s, not %s", at, c.At)
	n, _ := activeOf(r, ParentInstance, "", UserHuman, "1d")
	assert.Equal(t, uint64(2), n)

	again := in.Marshal()
	assert.Equal(t, "zitadel.activity.v3", string(again[:len("zitadel.activity.v3")]), "written again in the current format")
	back, err := Unmarshal(again)
	require.NoError(t, err)
	assert.Equal(t, r.Logins, back.Report(at).Logins)
}

// TestADamagedStateIsRefused: a flipped byte anywhere, in a stored login
// counter or the read position alike, refuses the state instead of reading
// other numbers.
func TestADamagedStateIsRefused(t *testing.T) {
	data, err := os.ReadFile(stateV2)
	require.NoError(t, err)
	in, err := Unmarshal(data)
	require.NoError(t, err)
	current := in.Marshal()
	for i := range current {
		damaged := append([]byte(nil), current...)
		damaged[i] ^= 0x04
		_, err := Unmarshal(damaged)
		assert.Error(t, err, "byte %d", i)
	}
	_, err = Unmarshal(current[:0])
	assert.ErrorIs(t, err, storedform.ErrEmpty)
}

func activeOf(r Report, parentType, parentID, userType, window string) (uint64, bool) {
	for _, a := range r.Active {
		if a.ParentType == parentType && a.ParentID == parentID && a.UserType == userType && a.Window == window {
			return a.Users, true
		}
	}
	return 0, false
}
