package zitadeldbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// CountsShape is a generated projections.resource_counts: one row per
// instance × organization × resource.
type CountsShape struct {
	Instances     int
	Organizations int // per instance
}

// countResources are the organization-level counts of the generated rows,
// including a second users table as during a rolling upgrade.
var countResources = [][2]string{
	{"user", "projections.users14"},
	{"user_machine", "projections.users14"},
	{"project", "projections.projects4"},
	{"scim_provisioned_user", "projections.user_metadata5"},
	{"user", "projections.users15"},
}

// Rows is the number of rows of the shape.
func (s CountsShape) Rows() int { return s.Instances * s.Organizations * len(countResources) }

// SharedCounts returns the DSN of a database whose resource_counts has the
// shape's rows, written directly (not through the triggers) with ids that
// have gaps, as ZITADEL's have. The database is built once per cluster and
// kept, so repeated benchmark runs skip the minutes it takes to fill.
func SharedCounts(tb testing.TB, shape CountsShape) string {
	tb.Helper()
	admin := AdminDSN(tb)
	name := fmt.Sprintf("zitadeltelemetry_bench_counts_%dx%dx%d_v1", shape.Instances, shape.Organizations, len(countResources))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connecting to %s: %v", DSNEnv, err)
	}
	defer conn.Close(ctx)
	// Packages benchmark in parallel; one of them builds the database.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		tb.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext($1))", name) }()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		fillShared(tb, conn, admin, name, shape)
	}
	return WithDatabase(admin, name)
}

// fillShared fills a database under a temporary name and renames it when
// complete, so an interrupted fill is never mistaken for a finished one.
func fillShared(tb testing.TB, admin *pgx.Conn, adminDSN, name string, shape CountsShape) {
	tb.Helper()
	ctx := context.Background()
	tmp := name + "_" + randomHex(4)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{tmp}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, WithDatabase(adminDSN, tmp))
	if err != nil {
		tb.Fatal(err)
	}
	tables := make([]string, len(countResources))
	resources := make([]string, len(countResources))
	for i, r := range countResources {
		resources[i], tables[i] = r[0], r[1]
	}
	_, err = conn.Exec(ctx, schema)
	if err == nil {
		// ZITADEL-like 18-digit ids; every third id is used.
		_, err = conn.Exec(ctx, `INSERT INTO projections.resource_counts
			(id, instance_id, table_name, parent_type, parent_id, resource_name, updated_at, amount)
		SELECT ((i * $2 + o) * $3 + r) * 3 + 1,
			(300000000000000000 + i)::text,
			($4::text[])[r + 1],
			'organization',
			(310000000000000000 + i * 1000000 + o)::text,
			($5::text[])[r + 1],
			now() - (o % 1000) * interval '1 minute',
			(i + o + r) % 500
		FROM generate_series(0, $1 - 1) i, generate_series(0, $2 - 1) o, generate_series(0, $3 - 1) r`,
			shape.Instances, shape.Organizations, len(countResources), tables, resources)
	}
	if err == nil {
		_, err = conn.Exec(ctx, "VACUUM ANALYZE projections.resource_counts")
	}
	_ = conn.Close(ctx)
	if err == nil {
		_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{tmp}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	}
	if err != nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{tmp}.Sanitize()+" WITH (FORCE)")
		tb.Fatalf("filling %s: %v", name, err)
	}
}

// BareRead reads every row of resource_counts the way ZITADEL's service ping
// does (keyset pages ordered by id) into discarded values: the floor any
// reader of these rows pays. It returns the number of rows.
func BareRead(ctx context.Context, conn *pgx.Conn, pageSize int) (int, error) {
	var (
		id, amount                                                int64
		instanceID, tableName, parentType, parentID, resourceName string
		updatedAt                                                 time.Time
	)
	total, last := 0, int64(0)
	for {
		rows, err := conn.Query(ctx, `SELECT id, instance_id, table_name, parent_type, parent_id, resource_name, updated_at, amount
			FROM projections.resource_counts WHERE id > $1 ORDER BY id LIMIT $2`, last, pageSize)
		if err != nil {
			return total, err
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(&id, &instanceID, &tableName, &parentType, &parentID, &resourceName, &updatedAt, &amount); err != nil {
				rows.Close()
				return total, err
			}
			n++
			last = id
		}
		if err := rows.Err(); err != nil {
			return total, err
		}
		total += n
		if n < pageSize {
			return total, nil
		}
	}
}

// BareReadBenchmark is the floor the database benchmarks compare with:
// BareRead of every row, on its own connection, once per iteration.
func BareReadBenchmark(b *testing.B, dsn string, pageSize, rows int) {
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		if n, err := BareRead(context.Background(), conn, pageSize); err != nil || n != rows {
			b.Fatalf("read %d rows: %v", n, err)
		}
	}
}
