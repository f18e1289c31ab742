package zitadeltelemetry

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

const (
	testIDHashKey  = "0123456789abcdef0123456789abcdef-test-key"
	otherIDHashKey = "fedcba9876543210fedcba9876543210-other-key"
)

// hmacOf is the expected pseudonym, computed apart from the exporter's code.
func hmacOf(key, id string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// originalIDs lists every id testkit.ContractMetrics writes.
func originalIDs(systemID string, instances, orgs int) map[string]bool {
	ids := map[string]bool{systemID: true}
	md := testkit.ContractMetrics(systemID, instances, orgs, model.ResourceUser)
	for _, rm := range md.ResourceMetrics().All() {
		in, _ := rm.Resource().Attributes().Get(contract.ResAttrInstanceID)
		ids[in.Str()] = true
		for _, dp := range rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().All() {
			p, _ := dp.Attributes().Get(contract.AttrParentID)
			ids[p.Str()] = true
		}
	}
	return ids
}

// sentIDs collects the ids of every request, and checks each has ZITADEL's
// id shape and fits its limit.
func sentIDs(t *testing.T, reqs []telemetryserver.Request) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	add := func(id string, limit int) {
		require.Regexp(t, `^[A-Za-z0-9_-]+$`, id, "sent id")
		require.LessOrEqual(t, len(id), limit, "sent id %q", id)
		ids[id] = true
	}
	for _, r := range reqs {
		if r.Base != nil {
			add(r.Base.SystemId, fieldshape.MaxSystemIDBytes)
			for _, in := range r.Base.Instances {
				add(in.Id, fieldshape.MaxIDBytes)
			}
			continue
		}
		add(r.Counts.SystemId, fieldshape.MaxSystemIDBytes)
		for _, rc := range r.Counts.ResourceCounts {
			add(rc.InstanceId, fieldshape.MaxIDBytes)
			add(rc.ParentId, fieldshape.MaxIDBytes)
		}
	}
	return ids
}

// TestIDHashReplacesEveryIDOnEveryWire: with id_hash_key, every system,
// instance and organization id that reaches the endpoint is the HMAC of the
// original, in ZITADEL's id shape, and no original id is sent; the report is
// otherwise whole.
func TestIDHashReplacesEveryIDOnEveryWire(t *testing.T) {
	const system = "sys-hashed"
	originals := originalIDs(system, 2, 3)
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			cfg := testExporterConfig(protocol, s)
			cfg.IDHashKey = testIDHashKey
			cfg.BulkSize = 4 // several pages, each naming the system
			require.NoError(t, cfg.Validate())
			exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
			md := testkit.ContractMetrics(system, 2, 3, model.ResourceUser, model.ResourceProject)
			md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().AppendEmpty()
			instanceRow := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
			dp := instanceRow.At(instanceRow.Len() - 1)
			instanceRow.At(0).CopyTo(dp)
			dp.Attributes().PutStr(contract.AttrParentType, model.ParentInstance)
			dp.Attributes().PutStr(contract.AttrParentID, "100000000000000000")
			require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

			_, plain := s.Snapshot(system)
			assert.False(t, plain, "a report arrived under the original system id")
			snap, ok := s.Snapshot(hmacOf(testIDHashKey, system))
			require.True(t, ok, "no report under the hashed system id")
			assert.Len(t, snap.Rows, 2*3*2+1)
			require.Len(t, snap.Instances, 2)

			want := map[string]bool{}
			for id := range originals {
				want[hmacOf(testIDHashKey, id)] = true
			}
			assert.Equal(t, want, sentIDs(t, s.Requests()))
			for _, r := range snap.Rows {
				if r.ParentType == analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE {
					assert.Equal(t, r.InstanceId, r.ParentId, "an instance's own counts keep parent id = instance id")
				}
			}
		})
	}
}

// TestIDHashIsStableAndKeyed: the same key gives the same ids in every report,
// so an installation can be followed over time; another key gives others.
func TestIDHashIsStableAndKeyed(t *testing.T) {
	reportIDs := func(key string) map[string]bool {
		s := startTelemetryServer(t)
		cfg := testExporterConfig(ProtocolHTTP, s)
		cfg.IDHashKey = configopaque.String(key)
		exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
		require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-stable", 1, 2, model.ResourceUser)))
		return sentIDs(t, s.Requests())
	}
	first, again, other := reportIDs(testIDHashKey), reportIDs(testIDHashKey), reportIDs(otherIDHashKey)
	assert.Equal(t, first, again)
	for id := range other {
		assert.False(t, first[id], "two keys gave the same pseudonym %s", id)
	}
}

// TestIDHashAppliesOnceOnTheSchedule: a scheduled report goes from the
// snapshot back through the exporter; its ids are hashed once, the same as
// without a schedule, and the snapshot keeps the originals.
func TestIDHashAppliesOnceOnTheSchedule(t *testing.T) {
	srv := startTelemetryServer(t)
	clk := newFakeClock(scheduleStart)
	cfg := scheduledConfig(srv)
	cfg.IDHashKey = testIDHashKey
	exp := startScheduled(t, cfg, exportertest.NewNopSettings(ExporterType), clk, testkit.ExtensionsHost{})
	defer stopScheduled(t, exp)

	require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics(scheduledSystem, 1, 2, model.ResourceUser)))
	clk.set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	clk.waitTick(t)
	snap, ok := srv.Snapshot(hmacOf(testIDHashKey, scheduledSystem))
	require.True(t, ok)
	assert.Len(t, snap.Rows, 2)
	assert.Equal(t, hmacOf(testIDHashKey, "100000000000000000"), snap.Instances[0].Id)
}

func TestIDHashKeyValidation(t *testing.T) {
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	cfg.Endpoint = "https://zitadel.com/api/ping"
	short := "too-short-secret"
	cfg.IDHashKey = configopaque.String(short)
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "id_hash_key: 16 bytes is too short; use at least 32")
	assert.NotContains(t, err.Error(), short, "the refusal repeats the key")

	cfg.IDHashKey = testIDHashKey
	require.NoError(t, cfg.Validate())
	assert.NotContains(t, strings.ToLower(cfg.IDHashKey.String()), "test-key", "configopaque shows the key")
}
