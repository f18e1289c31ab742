package zitadeltelemetry

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// reportRow is a ResourceCount without updated_at: ZITADEL sends the row's
// updated_at, the exporter the observation time (the data point's).
type reportRow struct {
	instanceID, parentID, resource, table string
	parentType                            analytics.CountParentType
	amount                                uint32
}

type reportInstance struct {
	id      string
	domains []string // sorted: ZITADEL's query gives them in no order
	created time.Time
}

// zitadelReport is what ZITADEL's own service ping reads from the same
// database: its system id and instance queries, and every resource_counts row
// in id order, pages of bulkSize.
type zitadelReport struct {
	systemID  string
	instances []reportInstance
	rows      []reportRow
}

// TestDatabaseScrapeReportsWhatZitadelWould checks that the exporter's report
// of a database scrape is the one ZITADEL's service ping would send for the
// same rows: the same rows, table names and zero amounts. The one intended
// difference: an instance without a domain is reported, where ZITADEL's
// instance query drops it.
func TestDatabaseScrapeReportsWhatZitadelWould(t *testing.T) {
	d := zitadeldbtest.New(t)
	smallZitadel(t, d)
	// A count of an older projection version, left behind by an upgrade.
	d.Exec(t, `INSERT INTO projections.resource_counts (instance_id, table_name, parent_type, parent_id, resource_name, amount)
		VALUES ('312000000000000001', 'projections.users13', 'organization', '312000000000000101', 'user', 0)`)
	want := readAsZitadel(t, d, 4)

	cfg := dbReceiverConfig(d)
	cfg.Database.PageSize = 4
	s := newZitadelScraper(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)

	built := (&reportBuilder{sendDomains: true}).build(md)
	require.Zero(t, built.rejected, "%v", built.problems)
	require.Zero(t, built.ignoredMetrics)
	require.Zero(t, built.withoutSystem)
	require.Len(t, built.systems, 1)
	got := built.systems[0]

	assert.Equal(t, want.systemID, got.systemID)
	assert.Equal(t, want.systemID, got.base.SystemId)
	assert.Equal(t, "v4.13.1", got.base.Version, "the version of the last setup run")

	var gotInstances []reportInstance
	for _, in := range got.base.Instances {
		gotInstances = append(gotInstances, reportInstance{id: in.Id, domains: sorted(in.Domains), created: in.CreatedAt.AsTime()})
	}
	withoutDomain := reportInstance{id: "312000000000000002", created: time.Date(2025, 3, 2, 3, 4, 5, 123456000, time.UTC)}
	assert.Equal(t, append(want.instances, withoutDomain), gotInstances)

	var gotRows []reportRow
	for _, page := range got.pages(defaultBulkSize) {
		for _, rc := range page {
			require.NotNil(t, rc.UpdatedAt)
			gotRows = append(gotRows, reportRow{instanceID: rc.InstanceId, parentType: rc.ParentType, parentID: rc.ParentId,
				resource: rc.ResourceName, table: rc.TableName, amount: rc.Amount})
		}
	}
	assert.ElementsMatch(t, want.rows, gotRows)
	assert.Len(t, want.rows, 16, "every row, zero amounts and the old table included")
	assert.Contains(t, gotRows, reportRow{instanceID: "312000000000000001", parentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		parentID: "312000000000000101", resource: "user", table: "projections.users13"})
}

// readAsZitadel reads the database with the queries ZITADEL's service ping
// runs, and maps the rows as it does.
func readAsZitadel(t *testing.T, d *zitadeldbtest.DB, bulkSize int) zitadelReport {
	t.Helper()
	ctx := t.Context()
	var r zitadelReport
	require.NoError(t, d.Conn.QueryRow(ctx, `SELECT payload->>'id' FROM eventstore.events2
		WHERE instance_id = '' AND aggregate_type = 'system' AND event_type = 'system.id.generated'
		ORDER BY "position" DESC, in_tx_order DESC LIMIT 1`).Scan(&r.systemID))

	// ZITADEL's instance search joins the domains and skips a row without a
	// domain, so an instance without domains never reaches the report.
	rows, err := d.Conn.Query(ctx, `SELECT i.id, i.creation_date, d.domain
		FROM projections.instances i LEFT JOIN projections.instance_domains d ON d.instance_id = i.id
		ORDER BY i.id`)
	require.NoError(t, err)
	for rows.Next() {
		var (
			id      string
			created time.Time
			domain  *string
		)
		require.NoError(t, rows.Scan(&id, &created, &domain))
		if domain == nil {
			continue
		}
		if n := len(r.instances); n == 0 || r.instances[n-1].id != id {
			r.instances = append(r.instances, reportInstance{id: id, created: created.UTC()})
		}
		last := &r.instances[len(r.instances)-1]
		last.domains = sorted(append(last.domains, *domain))
	}
	require.NoError(t, rows.Err())

	lastID := 0
	for {
		rows, err := d.Conn.Query(ctx, `SELECT id, instance_id, table_name, parent_type, parent_id, resource_name, updated_at, amount
			FROM projections.resource_counts WHERE id > $1 ORDER BY id LIMIT $2`, lastID, bulkSize)
		require.NoError(t, err)
		n := 0
		for rows.Next() {
			var (
				instanceID, table, parentType, parentID, resource string
				updatedAt                                         time.Time
				amount                                            int32
			)
			require.NoError(t, rows.Scan(&lastID, &instanceID, &table, &parentType, &parentID, &resource, &updatedAt, &amount))
			row := reportRow{instanceID: instanceID, parentID: parentID, resource: resource, table: table, amount: uint32(amount)}
			switch parentType {
			case "instance":
				row.parentType = analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE
			case "organization":
				row.parentType = analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION
			}
			r.rows = append(r.rows, row)
			n++
		}
		require.NoError(t, rows.Err())
		if n < bulkSize {
			break
		}
	}
	return r
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.SortFunc(s, strings.Compare)
	return s
}
