// Package zitadeldbtest gives tests and benchmarks a PostgreSQL database of
// their own with ZITADEL's tables and counting triggers (testdata/schema.sql),
// in the cluster scripts/with-postgres.sh provides.
package zitadeldbtest

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNEnv names the environment variable holding a superuser DSN of a cluster
// the tests may create databases and roles in.
const DSNEnv = "ZITADEL_TEST_POSTGRES_DSN"

//go:embed testdata/schema.sql
var schema string

// Schema is the SQL that reproduces ZITADEL's tables and triggers.
func Schema() string { return schema }

// AdminDSN returns the superuser DSN. Without one the test is skipped, unless
// CI=true, where a missing database is a failure and not a silent skip.
func AdminDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set; run the tests through scripts/with-postgres.sh", DSNEnv)
		}
		tb.Skipf("%s is not set; run through scripts/with-postgres.sh for the PostgreSQL tests", DSNEnv)
	}
	return dsn
}

// DB is a database of one test, dropped with its roles when the test ends.
type DB struct {
	// Name is the database's name.
	Name string
	// DSN reaches this database as the superuser.
	DSN string
	// Conn is a superuser session in this database.
	Conn *pgx.Conn

	admin    string
	roles    []string
	position int
}

// New creates an empty database with ZITADEL's schema.
func New(tb testing.TB) *DB {
	tb.Helper()
	d := create(tb, uniqueName(tb.Name()))
	d.Exec(tb, schema)
	return d
}

func create(tb testing.TB, name string) *DB {
	tb.Helper()
	admin := AdminDSN(tb)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connecting to %s: %v", DSNEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("creating database %s: %v", name, err)
	}
	d := &DB{Name: name, DSN: WithDatabase(admin, name), admin: admin}
	tb.Cleanup(d.drop)
	if d.Conn, err = pgx.Connect(ctx, d.DSN); err != nil {
		tb.Fatalf("connecting to database %s: %v", name, err)
	}
	return d
}

func (d *DB) drop() {
	ctx := context.Background()
	if d.Conn != nil {
		_ = d.Conn.Close(ctx)
	}
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)")
	for _, r := range d.roles {
		_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
	}
}

// Exec runs SQL as the superuser; without arguments it may hold several statements.
func (d *DB) Exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := d.Conn.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%v\n%s", err, sql)
	}
}

// Role is a login role created for one test.
type Role struct {
	Name     string
	Password string
}

// CreateRole creates a login role that may connect to this database and has
// no other privilege; it is dropped when the test ends.
func (d *DB) CreateRole(tb testing.TB) Role {
	tb.Helper()
	r := Role{Name: d.Name + "_" + randomHex(3), Password: randomHex(12)}
	ident := pgx.Identifier{r.Name}.Sanitize()
	d.roles = append(d.roles, r.Name)
	d.Exec(tb, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", ident, r.Password))
	d.Exec(tb, fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", pgx.Identifier{d.Name}.Sanitize(), ident))
	return r
}

// ReaderGrants are the grants README.md documents for the receiver's role;
// %s is the role.
var ReaderGrants = []string{
	"GRANT USAGE ON SCHEMA projections, eventstore TO %s",
	"GRANT SELECT ON projections.resource_counts, projections.instances, projections.instance_domains, eventstore.events2 TO %s",
}

// ViewReaderGrants are the grants README.md documents with its view of the
// events (zitadeldb.EventsView).
var ViewReaderGrants = []string{
	"GRANT USAGE ON SCHEMA projections, eventstore TO %s",
	"GRANT SELECT ON projections.resource_counts, projections.instances, projections.instance_domains, eventstore.otelcol_events TO %s",
}

// AuditViewReaderGrants are the grants README.md documents with the audit
// trail's view of the events (zitadeldb.AuditEventsView).
var AuditViewReaderGrants = []string{
	"GRANT USAGE ON SCHEMA projections, eventstore TO %s",
	"GRANT SELECT ON projections.resource_counts, projections.instances, projections.instance_domains, eventstore.otelcol_audit_events TO %s",
}

// Grant runs each statement with the role's name in place of %s.
func (d *DB) Grant(tb testing.TB, r Role, statements ...string) {
	tb.Helper()
	for _, s := range statements {
		d.Exec(tb, fmt.Sprintf(s, pgx.Identifier{r.Name}.Sanitize()))
	}
}

// TerminateBackends ends every other session in this database, as a server
// restart or a network failure would.
func (d *DB) TerminateBackends(tb testing.TB) int {
	tb.Helper()
	var n int
	err := d.Conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		tb.Fatalf("terminating sessions: %v", err)
	}
	return n
}

// AddInstance adds an instance with its domains; the first domain is the
// primary one.
func (d *DB) AddInstance(tb testing.TB, id string, created time.Time, domains ...string) {
	tb.Helper()
	d.Exec(tb, `INSERT INTO projections.instances (id, name, change_date, creation_date, "sequence")
		VALUES ($1, $1, $2, $2, 1)`, id, created)
	for i, domain := range domains {
		d.Exec(tb, `INSERT INTO projections.instance_domains
			(instance_id, creation_date, change_date, "sequence", domain, is_generated, is_primary)
			VALUES ($1, $2, $2, 1, $3, $4, $5)`, id, created, domain, strings.HasSuffix(domain, ".zitadel.cloud"), i == 0)
	}
}

// AddSystemEvent appends an event of ZITADEL's "system" aggregate, which has
// an empty instance id, later than every event added before.
func (d *DB) AddSystemEvent(tb testing.TB, eventType, payload string) {
	tb.Helper()
	d.position++
	d.Exec(tb, `INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type,
		"sequence", revision, created_at, payload, creator, "owner", "position", in_tx_order)
		VALUES ('', 'system', 'SYSTEM', $1, $2, 1, now(), $3::jsonb, 'SYSTEM', 'SYSTEM', $4, 0)`,
		eventType, d.position, payload, d.position)
}

// SetupRun records a `zitadel setup` run of the given version, as ZITADEL's
// repeatable projection_tables step does.
func (d *DB) SetupRun(tb testing.TB, version string) {
	tb.Helper()
	d.AddSystemEvent(tb, "system.migration.repeatable.done",
		fmt.Sprintf(`{"name": "projection_tables", "lastRun": {"version": %q}}`, version))
}

// WithDatabase returns dsn pointed at another database.
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			q := u.Query()
			q.Del("dbname")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " dbname='" + name + "'"
}

// DSN is dsn logging in as the role instead, in dsn's own form.
func (r Role) DSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.User = url.UserPassword(r.Name, r.Password)
			return u.String()
		}
	}
	return dsn + " user='" + r.Name + "' password='" + r.Password + "'"
}

// uniqueName derives a database name from the test's, unique per run, so
// packages testing in parallel never share a database.
func uniqueName(testName string) string {
	var b strings.Builder
	b.WriteString("zt_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(randomHex(4))
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
