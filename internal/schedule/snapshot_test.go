package schedule

import (
	"os"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storedform"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

func snapshotOf(t *testing.T, at time.Time, batches ...[]*report.System) *snapshot {
	t.Helper()
	s := newSnapshot()
	for _, b := range batches {
		s.update(b, at)
	}
	return s
}

func built(t *testing.T, systemID string, instances, orgs int, resources ...string) []*report.System {
	t.Helper()
	b := report.NewBuilder("", "", true, nil).Build(testkit.ContractMetrics(systemID, instances, orgs, resources...))
	require.Empty(t, b.Errors())
	return b.Systems()
}

// The snapshot written back into the metric contract is the batch it was
// made of, so a scheduled report is the report the batch would have been.
func TestSnapshotMetricsAreTheBatch(t *testing.T) {
	md := testkit.ContractMetrics("sys", 2, 3, model.ResourceUser, model.ResourceProject)
	b := report.NewBuilder("", "", true, nil).Build(md)
	s := newSnapshot()
	s.update(b.Systems(), testkit.Observed)
	got := s.systems["sys"].metrics(testkit.Observed)
	require.NoError(t, pmetrictest.CompareMetrics(md, got, pmetrictest.IgnoreStartTimestamp()))
}

func TestSnapshotStorageRoundTrip(t *testing.T) {
	s := snapshotOf(t, testkit.Observed, built(t, "sys-a", 2, 3, model.ResourceUser), built(t, "sys-b", 1, 2, model.ResourceProject))
	back, err := unmarshalSnapshot(s.marshal())
	require.NoError(t, err)
	assert.Equal(t, s.systemIDs(), back.systemIDs())
	for _, id := range s.systemIDs() {
		require.NoError(t, pmetrictest.CompareMetrics(s.systems[id].metrics(testkit.Observed), back.systems[id].metrics(testkit.Observed)))
		assert.Equal(t, s.systems[id].rows, back.systems[id].rows, "the times each row was seen come back too")
	}
}

func TestDamagedStoredSnapshotIsRefusedWhole(t *testing.T) {
	data := snapshotOf(t, testkit.Observed, built(t, "sys", 2, 3, model.ResourceUser)).marshal()
	for n := range len(data) {
		_, err := unmarshalSnapshot(data[:n])
		require.Error(t, err, "cut at %d of %d bytes", n, len(data))
	}
	_, err := unmarshalSnapshot(append(data, 0))
	assert.ErrorIs(t, err, storedform.ErrChecksum)
	var unknown *storedform.UnknownFormatError
	_, err = unmarshalSnapshot([]byte("something else"))
	assert.ErrorAs(t, err, &unknown)
}

// Organizations deleted long ago leave no strings behind.
func TestPruneForgetsStringsNoRowUses(t *testing.T) {
	s := snapshotOf(t, testkit.Observed, built(t, "sys", 1, 100, model.ResourceUser))
	s.update(built(t, "sys", 1, 2, model.ResourceUser), testkit.Observed.Add(time.Hour))
	s.prune(testkit.Observed.Add(30 * time.Minute))
	ss := s.systems["sys"]
	require.Len(t, ss.rows, 2)
	assert.Len(t, ss.strs.vals, 5, "instance, two organizations, resource, table")
	assert.Len(t, ss.parents, 2)
	for i, r := range ss.rows {
		assert.Equal(t, int32(i), ss.find(r.key))
	}
	// Rows found through the renumbered strings update in place.
	s.update(built(t, "sys", 1, 2, model.ResourceUser), testkit.Observed.Add(2*time.Hour))
	assert.Len(t, ss.rows, 2)

	s.prune(testkit.Observed.Add(3 * time.Hour))
	assert.Empty(t, s.systemIDs(), "a system without rows drops out")
}

// TestASnapshotOfThePreviousFormatIsRead: the snapshot version 1 wrote,
// without a checksum (one system "sys", one instance, two organizations'
// users), is read after an upgrade and written again in the current format.
func TestASnapshotOfThePreviousFormatIsRead(t *testing.T) {
	data, err := os.ReadFile("testdata/snapshot.zitadeltelemetry.snapshot.v1.bin")
	require.NoError(t, err)
	back, previous, err := openSnapshot(data)
	require.NoError(t, err)
	require.True(t, previous)
	want := snapshotOf(t, testkit.Observed, built(t, "sys", 1, 2, model.ResourceUser))
	require.NoError(t, pmetrictest.CompareMetrics(want.systems["sys"].metrics(testkit.Observed), back.systems["sys"].metrics(testkit.Observed)))

	again := back.marshal()
	assert.Equal(t, SnapshotFormat.Current, string(again[:len(SnapshotFormat.Current)]))
	for i := range again {
		damaged := append([]byte(nil), again...)
		damaged[i] ^= 0x10
		_, err := unmarshalSnapshot(damaged)
		assert.Error(t, err, "a flipped bit in byte %d", i)
	}
}
