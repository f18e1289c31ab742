package zitadeltelemetry

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

const dbTestdata = "testdata/receiver/database"

func TestDatabaseReceiverConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join(dbTestdata, "config.yaml"))
	require.NoError(t, err)

	full := createDefaultReceiverConfig().(*ReceiverConfig)
	full.Source = SourceDatabase
	full.CollectionInterval = 5 * time.Minute
	full.Database = zitadeldb.Config{
		Endpoint:     "db.internal:5432",
		Username:     "zitadel_reader",
		PasswordFile: "/run/secrets/zitadel-db-password",
		Database:     "zitadel",
		TLS:          zitadeldb.TLSConfig{Mode: "verify-full", CAFile: "/etc/ssl/certs/db-ca.pem"},
		MaxConns:     1,
		Timeout:      10 * time.Second,
		PageSize:     5000,
		Instances:    []string{"312000000000000001"},
		EventsTable:  "eventstore.otelcol_events",
	}
	dsnOnly := createDefaultReceiverConfig().(*ReceiverConfig)
	dsnOnly.Source = SourceDatabase
	dsnOnly.Database.DSN = configopaque.String("postgres://zitadel_reader:secret@db.internal:5432/zitadel?sslmode=verify-full")
	dsnOnly.Database.UpdatedAtAttribute = true

	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "full", want: full},
		{key: "dsn", want: dsnOnly},
		{key: "neither_dsn_nor_endpoint", errs: []string{"database: set dsn or endpoint to reach ZITADEL's PostgreSQL"}},
		{key: "endpoint_without_username", errs: []string{"database: username: required with endpoint"}},
		{key: "conflicts", errs: []string{
			"database: dsn and endpoint: set one of them, not both",
			"\npassword and password_file: set one of them, not both",
		}},
		// The collector names the block once, before the block's first problem.
		{key: "bad_values", errs: []string{
			`database: endpoint: "db.internal" is not host:port`,
			"\nmax_conns: must be at least 1, got 0",
			"\ntimeout: per-query timeout must not be negative, got -1s",
			"\npage_size: must be at least 1, got 0",
			"\ninstances[1]: \"312\" is listed twice",
			"\nevents_table: \"a.b.c\": want name or schema.name",
			`database::tls: mode: "on" is not a mode; use one of disable, allow, prefer, require, verify-ca, verify-full`,
			"\ncert_file and key_file: set both or neither",
		}},
		// The block is checked whichever source is selected.
		{key: "api_source_with_bad_database_block", errs: []string{"database: page_size: must be at least 1, got 0"}},
	})
}

// smallZitadel fills d through ZITADEL's counting triggers: two instances (one
// without a domain), three organizations, and changes that leave a zero count.
func smallZitadel(t *testing.T, d *zitadeldbtest.DB) {
	t.Helper()
	created := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	d.AddInstance(t, "312000000000000001", created, "login.acme.example", "acme-x7k2.zitadel.cloud")
	d.AddInstance(t, "312000000000000002", created.AddDate(0, 2, 0))
	d.AddSystemEvent(t, "system.id.generated", `{"id": "k0Lx3ZlJd5aYIuWmPL9rTrmZ8pT0vN1bQmFyc2hlbGxvd29ybGRoZWxsb3dvcmxkaGVsbG93b3JsZGhlbGxvd29y"}`)
	d.SetupRun(t, "v4.12.3")
	d.SetupRun(t, "v4.13.1")
	d.Exec(t, `
		INSERT INTO projections.orgs1 (instance_id, id) VALUES
			('312000000000000001', '312000000000000101'), ('312000000000000001', '312000000000000102'),
			('312000000000000002', '312000000000000201');
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES
			('312000000000000001', '312000000000000101', 'u1', 1),
			('312000000000000001', '312000000000000101', 'u2', 1),
			('312000000000000001', '312000000000000101', 'u3', 2),
			('312000000000000001', '312000000000000102', 'u4', 1),
			('312000000000000002', '312000000000000201', 'u5', 2);
		DELETE FROM projections.users14 WHERE id = 'u4';
		INSERT INTO projections.projects4 (instance_id, resource_owner, id) VALUES
			('312000000000000001', '312000000000000101', 'p1');
		INSERT INTO projections.instance_members4 (instance_id, resource_owner, user_id) VALUES
			('312000000000000001', '312000000000000001', 'u1');
		INSERT INTO projections.login_policies5 (instance_id, aggregate_id, force_mfa, force_mfa_local_only) VALUES
			('312000000000000001', '312000000000000001', false, false),
			('312000000000000002', '312000000000000002', false, true);
		UPDATE projections.login_policies5 SET force_mfa = true WHERE instance_id = '312000000000000001';
		UPDATE projections.login_policies5 SET force_mfa_local_only = false WHERE instance_id = '312000000000000002';
		INSERT INTO projections.idps3 (instance_id, id) VALUES ('312000000000000001', 'idp1');
		INSERT INTO projections.idp_templates6 (instance_id, id) VALUES ('312000000000000001', 'idp1');
	`)
}

func dbReceiverConfig(d *zitadeldbtest.DB) *ReceiverConfig {
	cfg := createDefaultReceiverConfig().(*ReceiverConfig)
	cfg.Source = SourceDatabase
	cfg.Database.DSN = configopaque.String(d.DSN)
	cfg.InitialDelay = 0
	return cfg
}

// TestDatabaseReceiverGolden runs the receiver as the collector does and
// compares its first scrape with the golden metrics.
func TestDatabaseReceiverGolden(t *testing.T) {
	d := zitadeldbtest.New(t)
	smallZitadel(t, d)
	cfg := dbReceiverConfig(d)
	require.NoError(t, confmap.Validate(cfg))

	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 10*time.Millisecond)

	compareGolden(t, filepath.Join(dbTestdata, "small.yaml"), sink.AllMetrics()[0])
}

func compareGolden(t *testing.T, path string, got pmetric.Metrics) {
	t.Helper()
	if os.Getenv("ZITADEL_UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, got))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, got,
		pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreMetricDataPointsOrder()))
}

// TestDatabaseReceiverOverridesAndUpdatedAt checks what the receiver adds to
// what the database says: configured system id and version win, and the
// opt-in updated_at attribute carries each row's own time.
func TestDatabaseReceiverOverridesAndUpdatedAt(t *testing.T) {
	d := zitadeldbtest.New(t)
	smallZitadel(t, d)
	var updated time.Time
	require.NoError(t, d.Conn.QueryRow(t.Context(),
		"SELECT updated_at FROM projections.resource_counts WHERE resource_name = 'project'").Scan(&updated))

	cfg := dbReceiverConfig(d)
	cfg.SystemID, cfg.Version = "configured-system", "v4.99.0"
	cfg.Database.UpdatedAtAttribute = true
	s := newZitadelScraper(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)

	require.Equal(t, 2, md.ResourceMetrics().Len())
	points := 0
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		sys, _ := rm.Resource().Attributes().Get(contract.ResAttrSystemID)
		ver, _ := rm.Resource().Attributes().Get(contract.ResAttrVersion)
		assert.Equal(t, "configured-system", sys.Str())
		assert.Equal(t, "v4.99.0", ver.Str())
		dps := rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
		for j := range dps.Len() {
			points++
			attrs := dps.At(j).Attributes()
			v, ok := attrs.Get(contract.AttrUpdatedAt)
			require.True(t, ok, "every point carries %s", contract.AttrUpdatedAt)
			at, err := time.Parse(time.RFC3339Nano, v.Str())
			require.NoError(t, err)
			if r, _ := attrs.Get(contract.AttrResourceName); r.Str() == "project" {
				assert.True(t, updated.Equal(at), "got %s, want %s", at, updated)
			}
		}
	}
	assert.Equal(t, 15, points)
}
