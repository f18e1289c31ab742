package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

const (
	soakDBSystem   = "soak-db-system"
	soakDBInstance = "500000000000000001"
	soakDBOrgs     = 1000
)

// soakDatabaseValues is how the soak's collector reaches the database.
type soakDatabaseValues struct{ Endpoint, Username, Password, Database string }

// soakDatabase is the database pipeline's ZITADEL database and the faults the
// soak puts on it: its sessions killed while they wait on a lock the test
// holds, and a restart of PostgreSQL.
type soakDatabase struct {
	d      *zitadeldbtest.DB
	role   zitadeldbtest.Role
	values soakDatabaseValues
	want   map[rowKey]uint32
	// whole is the points of a whole scrape, from the first cycle.
	whole float64

	lockConn       *pgx.Conn
	lock           pgx.Tx
	killedRound    int
	killed         int
	restartedAfter int
	recovered      int
}

// startSoakDatabase fills a database with 1,000 organizations' counts of
// three resources.
func startSoakDatabase(t *testing.T) *soakDatabase {
	t.Helper()
	d := zitadeldbtest.New(t)
	d.AddInstance(t, soakDBInstance, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "soak.zitadel.example")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "`+soakDBSystem+`"}`)
	d.SetupRun(t, "v4.13.1")
	resources := [][2]string{{"projections.users14", "user"}, {"projections.projects4", "project"}, {"projections.apps7", "application"}}
	want := map[rowKey]uint32{}
	for _, r := range resources {
		d.Exec(t, `INSERT INTO projections.resource_counts (instance_id, table_name, parent_type, parent_id, resource_name, amount)
			SELECT $1, $2, 'organization', (600000000000000000 + g)::text, $3, g % 97 FROM generate_series(1, $4::int) g`,
			soakDBInstance, r[0], r[1], soakDBOrgs)
		for g := 1; g <= soakDBOrgs; g++ {
			want[rowKey{soakDBInstance, model.ParentOrganization, strconv.Itoa(600000000000000000 + g), r[1]}] = uint32(g % 97)
		}
	}
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	pc, err := pgx.ParseConfig(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db := &soakDatabase{d: d, role: role, want: want, values: soakDatabaseValues{
		Endpoint: pc.Host + ":" + strconv.Itoa(int(pc.Port)), Username: role.Name, Password: role.Password, Database: d.Name,
	}}
	t.Cleanup(db.unlock)
	return db
}

// lockCounts locks the counts table, so that the receiver's read of it in
// round waits until killWaiting kills its session.
func (db *soakDatabase) lockCounts(t *testing.T, round int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db.lockConn = conn
	if db.lock, err = conn.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.lock.Exec(ctx, "LOCK TABLE projections.resource_counts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	db.killedRound = round
}

// killWaiting terminates the receiver's sessions that wait on the lock
// (pg_terminate_backend), mid-read: the instances are read by then, the
// counts not; then it lets go of the lock.
func (db *soakDatabase) killWaiting(t *testing.T) {
	t.Helper()
	if db.lock == nil {
		return
	}
	var n int
	if err := db.lockConn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE usename = $1 AND wait_event_type = 'Lock'`, db.role.Name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		db.killed += n
		db.unlock()
	}
}

func (db *soakDatabase) unlock() {
	if db.lock != nil {
		_ = db.lock.Rollback(context.Background())
		db.lock = nil
	}
	if db.lockConn != nil {
		_ = db.lockConn.Close(context.Background())
		db.lockConn = nil
	}
}

// checkCycle checks the database pipeline's scrapes: whole in the first
// round, a counted partial scrape in the round its sessions were killed,
// whole in the next, and whole within three scrapes after a restart.
func (db *soakDatabase) checkCycle(t *testing.T, round int, d pipelineCounters) {
	t.Helper()
	wholeScrape := d.errored == 0 && d.accepted > 0 && (db.whole == 0 || d.accepted == db.whole)
	switch {
	case round == 1:
		if !wholeScrape {
			t.Fatalf("round 1: the database's first scrape is not whole: %+v", d)
		}
		db.whole = d.accepted
	case round == db.killedRound:
		if db.killed == 0 {
			t.Fatalf("round %d: the receiver never waited on the counts", round)
		}
		if d.errored == 0 {
			t.Errorf("round %d: the scrape whose sessions were killed mid-read is not counted in otelcol_scraper_errored_metric_points: %+v", round, d)
		}
		t.Logf("round %d: %d database sessions killed mid-read; %v points counted errored", round, db.killed, d.errored)
	case round == db.killedRound+1:
		if !wholeScrape {
			t.Errorf("round %d: the scrape after the killed one is not whole: %+v (a whole one has %v points)", round, d, db.whole)
		}
	case db.restartedAfter > 0 && round > db.restartedAfter && db.recovered == 0 && round <= db.restartedAfter+3:
		if wholeScrape {
			db.recovered = round
		} else {
			t.Logf("round %d: scrape after the restart: %+v", round, d)
		}
	}
}

// checkDone checks that the faults happened and, after a restart, a whole
// scrape followed.
func (db *soakDatabase) checkDone(t *testing.T) {
	t.Helper()
	if db.killed == 0 {
		t.Error("no database session was killed mid-read")
	}
	if db.restartedAfter > 0 && db.recovered == 0 {
		t.Error("no whole database scrape within three after PostgreSQL restarted")
	}
}

func (db *soakDatabase) restartNote() string {
	if db.restartedAfter == 0 {
		return ""
	}
	return fmt.Sprintf(", PostgreSQL restarted after round %d and the scrape whole again in round %d", db.restartedAfter, db.recovered)
}
