package zitadeltelemetry

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// soakRestartPostgres restarts the test cluster, which every package under
// test shares: only `make soak`, which runs alone, asks for it.
var soakRestartPostgres = flag.Bool("soak.restart-postgres", false, "restart PostgreSQL during the database soak")

// TestSoakDatabaseFaults scrapes a 1,000-organization database, kills the
// receiver's connections while it is reading the counts (pg_terminate_backend)
// and, with -soak.restart-postgres, restarts PostgreSQL: the scrape cut
// short is an error, and the next scrape is whole again.
func TestSoakDatabaseFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "500000000000000001", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "soak.zitadel.example")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "soak-db-system"}`)
	d.SetupRun(t, "v4.13.1")
	d.Exec(t, `INSERT INTO projections.resource_counts (instance_id, table_name, parent_type, parent_id, resource_name, amount)
		SELECT '500000000000000001', t.name, 'organization', (600000000000000000 + g)::text, t.resource, g % 97
		FROM generate_series(1, 1000) g,
		(VALUES ('projections.users14', 'user'), ('projections.projects4', 'project'), ('projections.apps7', 'application')) t(name, resource)`)
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	pc, err := pgx.ParseConfig(d.DSN)
	require.NoError(t, err)

	cfg := createDefaultReceiverConfig().(*ReceiverConfig)
	cfg.Source, cfg.InitialDelay = SourceDatabase, 0
	cfg.Database.Endpoint = pc.Host + ":" + strconv.Itoa(int(pc.Port))
	cfg.Database.Username, cfg.Database.Password = role.Name, configopaque.String(role.Password)
	cfg.Database.Database, cfg.Database.TLS.Mode = d.Name, "disable"
	cfg.Database.PageSize = 100
	require.NoError(t, cfg.Validate())
	s := startScraper(t, cfg)

	md, err := s.scrape(t.Context())
	require.NoError(t, err)
	whole := md.DataPointCount()
	require.GreaterOrEqual(t, whole, 3000)

	// The counts table is locked, so the receiver's read of it waits; its
	// sessions are killed while they wait, after it read the instances.
	lock, err := pgx.Connect(context.Background(), d.DSN)
	require.NoError(t, err)
	defer lock.Close(context.Background())
	tx, err := lock.Begin(context.Background())
	require.NoError(t, err)
	_, err = tx.Exec(context.Background(), "LOCK TABLE projections.resource_counts IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	scraped := make(chan error, 1)
	go func() {
		_, err := s.scrape(context.Background())
		scraped <- err
	}()
	killed := 0
	for deadline := time.Now().Add(20 * time.Second); killed == 0; {
		require.NoError(t, lock.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE usename = $1 AND wait_event_type = 'Lock'`, role.Name).Scan(&killed))
		require.False(t, time.Now().After(deadline), "the receiver never waited on the counts")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, tx.Rollback(context.Background()))
	err = <-scraped
	require.Error(t, err, "a scrape whose connection was killed mid-read")
	t.Logf("killed mid-read: %v", err)
	md, err = s.scrape(t.Context())
	require.NoError(t, err, "the next scrape")
	assert.Equal(t, whole, md.DataPointCount())

	if !*soakRestartPostgres {
		return
	}
	restartPostgres(t, d)
	var recovered bool
	for range 3 {
		if md, err = s.scrape(t.Context()); err == nil {
			recovered = true
			break
		}
		t.Logf("scrape after the restart: %v", err)
	}
	require.True(t, recovered, "no whole scrape within three after PostgreSQL restarted")
	assert.Equal(t, whole, md.DataPointCount())
}

// restartPostgres restarts the cluster with the options it was started with.
func restartPostgres(t *testing.T, d *zitadeldbtest.DB) {
	t.Helper()
	var dataDir string
	require.NoError(t, d.Conn.QueryRow(context.Background(), "SHOW data_directory").Scan(&dataDir))
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	require.NotEmpty(t, bins, "pg_ctl not found")
	sort.Strings(bins)
	// The server's log goes to a file of its own: the restarted server
	// lives on after pg_ctl and would hold a pipe open for good.
	logFile := filepath.Join(os.TempDir(), "zitadel-soak-restart-"+strconv.Itoa(os.Getpid())+".log")
	args := []string{bins[len(bins)-1], "restart", "-D", dataDir, "-m", "fast", "-w", "-t", "60", "-s", "-l", logFile}
	if os.Getuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	out, err := os.Create(filepath.Join(t.TempDir(), "pg_ctl.out"))
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		text, _ := os.ReadFile(out.Name())
		t.Fatalf("pg_ctl restart: %v: %s", err, text)
	}
	// The test's own session died with the server.
	conn, err := pgx.Connect(context.Background(), d.DSN)
	require.NoError(t, err)
	d.Conn = conn
}
