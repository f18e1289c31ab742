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

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/report"
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

// TestDatabaseScrapeReportsWhatZitadelWould checks that the exporter's report
// of a database scrape is the one ZITADEL's service ping would send for the
// same installation: the same rows, table names and zero amounts, and the
// same system id, version and instances. The expectation is worked out from
// what the test wrote, not read back with a query like the one under test.
// The one intended difference: an instance without a domain is reported,
// where ZITADEL's instance query drops it.
func TestDatabaseScrapeReportsWhatZitadelWould(t *testing.T) {
	d := zitadeldbtest.New(t)
	zitadelsOwnCounts(t, d)

	cfg := dbReceiverConfig(d)
	cfg.Database.PageSize = 4
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)

	built := report.NewBuilder("", "", true, nil).Build(md)
	require.Empty(t, built.Errors())
	require.Zero(t, built.Ignored().Count())
	require.Len(t, built.Systems(), 1)
	got := built.Systems()[0]

	assert.Equal(t, systemID, got.SystemID())
	assert.Equal(t, systemID, got.Base().SystemId)
	assert.Equal(t, "v4.13.1", got.Base().Version, "the version of the last setup run")

	var gotInstances []reportInstance
	for _, in := range got.Base().Instances {
		gotInstances = append(gotInstances, reportInstance{id: in.Id, domains: sorted(in.Domains), created: in.CreatedAt.AsTime()})
	}
	assert.ElementsMatch(t, []reportInstance{
		{id: instanceA, domains: []string{"acme-x7k2.zitadel.cloud", "login.acme.example"}, created: createdA},
		{id: instanceB, created: createdB}, // no domain: ZITADEL would leave it out
	}, gotInstances)

	var gotRows []reportRow
	for _, page := range got.Pages(fieldshape.DefaultBulkSize) {
		for _, rc := range page {
			require.NotNil(t, rc.UpdatedAt)
			gotRows = append(gotRows, reportRow{
				instanceID: rc.InstanceId, parentType: rc.ParentType, parentID: rc.ParentId,
				resource: rc.ResourceName, table: rc.TableName, amount: rc.Amount,
			})
		}
	}
	assert.ElementsMatch(t, zitadelsReportRows(), gotRows)
}

// The installation of TestDatabaseScrapeReportsWhatZitadelWould: instance A
// with domains, instance B without, and instance C removed with everything
// in it, as ZITADEL's reducers remove it.
const (
	instanceA = "312000000000000001"
	instanceB = "312000000000000002"
	instanceC = "312000000000000003"
	systemID  = "k0Lx3ZlJd5aYIuWmPL9rTrmZ8pT0vN1bQmFyc2hlbGxvd29ybGRoZWxsb3dvcmxkaGVsbG93b3JsZGhlbGxvd29y"
)

var (
	createdA = time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	createdB = time.Date(2025, 3, 2, 3, 4, 5, 123456000, time.UTC)
)

// zitadelsOwnCounts writes the installation through ZITADEL's tables, the
// statements exercising the rules of its counting triggers one by one.
func zitadelsOwnCounts(t *testing.T, d *zitadeldbtest.DB) {
	t.Helper()
	d.AddInstance(t, instanceA, createdA, "login.acme.example", "acme-x7k2.zitadel.cloud")
	d.AddInstance(t, instanceB, createdB)
	d.AddInstance(t, instanceC, createdB, "gone.example")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "`+systemID+`"}`)
	d.SetupRun(t, "v4.12.3")
	d.SetupRun(t, "v4.13.1")
	d.Exec(t, `
		INSERT INTO projections.orgs1 (instance_id, id) VALUES
			('312000000000000001', '312000000000000101'), ('312000000000000001', '312000000000000102'),
			('312000000000000001', '312000000000000103'),
			('312000000000000002', '312000000000000201'), ('312000000000000003', '312000000000000301');
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES
			('312000000000000001', '312000000000000101', 'u1', 1),
			('312000000000000001', '312000000000000101', 'u2', 1),
			('312000000000000001', '312000000000000101', 'u3', 2),
			('312000000000000001', '312000000000000102', 'u4', 1),
			('312000000000000002', '312000000000000201', 'u5', 2),
			('312000000000000003', '312000000000000301', 'u6', 1);
		-- user_machine tracks no updates: u1 stays counted as a human only.
		UPDATE projections.users14 SET type = 2 WHERE id = 'u1';
		-- Organization 102's users go to 0 and its row stays, until the
		-- organization itself is deleted below.
		DELETE FROM projections.users14 WHERE id = 'u4';
		-- Organization 103 never had a user: it has no user row at all. Its
		-- one project is deleted: its project row stays at 0.
		INSERT INTO projections.projects4 (instance_id, resource_owner, id) VALUES
			('312000000000000001', '312000000000000101', 'p1'),
			('312000000000000001', '312000000000000103', 'p2');
		DELETE FROM projections.projects4 WHERE id = 'p2';
		INSERT INTO projections.instance_members4 (instance_id, resource_owner, user_id) VALUES
			('312000000000000001', '312000000000000001', 'u1');
		-- enforce_mfa tracks updates: A's default policy turns it on, A's
		-- organization policy is added with it and turns it off, B's turns it
		-- off (0).
		INSERT INTO projections.login_policies5 (instance_id, aggregate_id, force_mfa, force_mfa_local_only) VALUES
			('312000000000000001', '312000000000000001', false, false),
			('312000000000000001', '312000000000000101', true, false),
			('312000000000000002', '312000000000000002', false, true);
		UPDATE projections.login_policies5 SET force_mfa = true WHERE aggregate_id = '312000000000000001';
		UPDATE projections.login_policies5 SET force_mfa_local_only = true WHERE aggregate_id = '312000000000000001';
		UPDATE projections.login_policies5 SET force_mfa = false WHERE aggregate_id = '312000000000000101';
		UPDATE projections.login_policies5 SET force_mfa_local_only = false WHERE aggregate_id = '312000000000000002';
		-- password_change_notification tracks updates: on then off in A (0),
		-- off then on in B.
		INSERT INTO projections.notification_policies (instance_id, id, password_change) VALUES
			('312000000000000001', '312000000000000001', true), ('312000000000000002', '312000000000000002', false);
		UPDATE projections.notification_policies SET password_change = NOT password_change;
		INSERT INTO projections.idps3 (instance_id, id) VALUES ('312000000000000001', 'idp1');
		INSERT INTO projections.idp_templates6 (instance_id, id) VALUES ('312000000000000001', 'idp1');
		INSERT INTO projections.user_metadata5 (instance_id, resource_owner, user_id, key) VALUES
			('312000000000000001', '312000000000000101', 'u1', 'urn:zitadel:scim:emails'),
			('312000000000000001', '312000000000000101', 'u2', 'nickname');
		-- A truncated table leaves no count behind.
		INSERT INTO projections.actions3 (instance_id, id) VALUES ('312000000000000001', 'a1');
		TRUNCATE projections.actions3;
		-- Deleting an organization removes its counts and counts it out.
		DELETE FROM projections.orgs1 WHERE id = '312000000000000102';
		-- Removing instance C: its organizations, domains, then the instance.
		DELETE FROM projections.orgs1 WHERE instance_id = '312000000000000003';
		DELETE FROM projections.instance_domains WHERE instance_id = '312000000000000003';
		DELETE FROM projections.instances WHERE id = '312000000000000003';
		-- A count of an older projection version, left behind by an upgrade.
		INSERT INTO projections.resource_counts (instance_id, table_name, parent_type, parent_id, resource_name, amount)
			VALUES ('312000000000000001', 'projections.users13', 'organization', '312000000000000101', 'user', 0);
	`)
}

// zitadelsReportRows are the rows ZITADEL's service ping reads for the
// installation zitadelsOwnCounts writes, worked out by hand from its
// statements: every row of resource_counts, those at 0 included.
func zitadelsReportRows() []reportRow {
	org := analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION
	inst := analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE
	a, b := instanceA, instanceB
	return []reportRow{
		{a, "312000000000000101", "user", "projections.users14", org, 3},
		{a, "312000000000000101", "user_machine", "projections.users14", org, 1},
		{a, "312000000000000101", "project", "projections.projects4", org, 1},
		{a, "312000000000000103", "project", "projections.projects4", org, 0},
		{a, "312000000000000101", "scim_provisioned_user", "projections.user_metadata5", org, 1},
		{a, "312000000000000101", "user", "projections.users13", org, 0},
		{a, a, "organization", "projections.orgs1", inst, 2},
		{a, a, "iam_admin", "projections.instance_members4", inst, 1},
		{a, a, "login_policy", "projections.login_policies5", inst, 2},
		{a, a, "enforce_mfa", "projections.login_policies5", inst, 1},
		{a, a, "password_change_notification", "projections.notification_policies", inst, 0},
		{a, a, "identity_provider", "projections.idps3", inst, 1},
		{a, a, "identity_provider", "projections.idp_templates6", inst, 1},
		{b, "312000000000000201", "user", "projections.users14", org, 1},
		{b, "312000000000000201", "user_machine", "projections.users14", org, 1},
		{b, b, "organization", "projections.orgs1", inst, 1},
		{b, b, "login_policy", "projections.login_policies5", inst, 1},
		{b, b, "enforce_mfa", "projections.login_policies5", inst, 0},
		{b, b, "password_change_notification", "projections.notification_policies", inst, 1},
	}
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.SortFunc(s, strings.Compare)
	return s
}
