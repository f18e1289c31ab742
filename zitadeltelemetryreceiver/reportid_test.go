package zitadeltelemetryreceiver

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
)

func TestReportIDsVerifyThemselves(t *testing.T) {
	clock := newTestClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	const key = "0123456789abcdef0123456789abcdef-shared"
	a, err := newReportIDs(key, time.Hour, clock.Now)
	require.NoError(t, err)
	b, err := newReportIDs(key, time.Hour, clock.Now)
	require.NoError(t, err)
	other, err := newReportIDs("", time.Hour, clock.Now)
	require.NoError(t, err)

	id := a.issue("system-1")
	assert.LessOrEqual(t, len(id), fieldshape.MaxReportIDBytes, "the exporter accepts ids of at most %d bytes", fieldshape.MaxReportIDBytes)
	assert.NotEqual(t, id, a.issue("system-1"), "every report gets its own id")
	assert.Empty(t, a.verify(id, "system-1"))
	assert.Empty(t, b.verify(id, "system-1"), "a replica with the same key accepts it")
	assert.Contains(t, other.verify(id, "system-1"), "not issued to this system", "a process with its own random key refuses it")
	assert.Contains(t, a.verify(id, "system-2"), "not issued to this system", "bound to the system id")

	parts := strings.Split(id, ".")
	for name, forged := range map[string]string{
		"later expiry":  strings.Join([]string{parts[0], "zzzzzz", parts[2], parts[3]}, "."),
		"other nonce":   strings.Join([]string{parts[0], parts[1], "AAAAAAAAAAAAAAAA", parts[3]}, "."),
		"cut signature": id[:len(id)-1],
		"other version": "zr2" + id[3:],
		"not an id":     "report-7",
		"empty parts":   "zr1...",
	} {
		assert.NotEmpty(t, a.verify(forged, "system-1"), name)
	}

	clock.Advance(time.Hour - time.Second)
	assert.Empty(t, a.verify(id, "system-1"), "valid until the TTL has passed")
	clock.Advance(time.Second)
	assert.Contains(t, a.verify(id, "system-1"), "expired at 2026-11-28T13:00:00Z")
}

func TestRandomReportKeysDiffer(t *testing.T) {
	a, err := newReportIDs("", time.Hour, time.Now)
	require.NoError(t, err)
	b, err := newReportIDs("", time.Hour, time.Now)
	require.NoError(t, err)
	assert.NotEqual(t, a.key, b.key)
	assert.Len(t, a.key, 32)
}
