package zitadeldb

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/scraper/scrapererror"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// recording keeps what a scrape recorded, in order.
type recording struct {
	instances []model.Instance
	counts    []model.Count
	onCount   func(n int) // called after each count, with the number so far
}

func (r *recording) RecordInstance(in model.Instance) { r.instances = append(r.instances, in) }

func (r *recording) RecordCount(c model.Count) {
	r.counts = append(r.counts, c)
	if r.onCount != nil {
		r.onCount(len(r.counts))
	}
}

// amounts maps "instance parent_type/parent_id resource table" to the amount.
func (r *recording) amounts() map[string]int64 {
	m := make(map[string]int64, len(r.counts))
	for _, c := range r.counts {
		m[fmt.Sprintf("%s %s/%s %s %s", c.InstanceID, c.ParentType, c.ParentID, c.Resource, c.Table)] = c.Amount
	}
	return m
}

func dbConfig(d *zitadeldbtest.DB) *Config {
	cfg := NewDefaultConfig()
	cfg.DSN = configopaqueString(d.DSN)
	return &cfg
}

// startSource starts a source on cfg and shuts it down when the test ends.
func startSource(t *testing.T, cfg *Config, filter model.ResourceFilter) model.Source {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.Required())
	src := NewSource(cfg, activity.Config{}, filter, componenttest.NewNopTelemetrySettings())
	require.NoError(t, src.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, src.Shutdown(context.Background())) })
	return src
}

func scrape(t *testing.T, src model.Source) *recording {
	t.Helper()
	rec := &recording{}
	require.NoError(t, src.Scrape(t.Context(), rec))
	return rec
}

// TestCountingFollowsZitadelTriggers changes source rows and checks that the
// source reports what ZITADEL's counting triggers keep, zero amounts included.
func TestCountingFollowsZitadelTriggers(t *testing.T) {
	d := zitadeldbtest.New(t)
	src := startSource(t, dbConfig(d), nil)
	const (
		users     = "projections.users14"
		orgs      = "projections.orgs1"
		policies  = "projections.login_policies5"
		notif     = "projections.notification_policies"
		projects  = "projections.projects4"
		metadata  = "projections.user_metadata5"
		members   = "projections.instance_members4"
		idps      = "projections.idps3"
		templates = "projections.idp_templates6"
	)

	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1'), ('i1', 'o2');
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES
			('i1', 'o1', 'u1', 1), ('i1', 'o1', 'u2', 2), ('i1', 'o1', 'u3', 1), ('i1', 'o2', 'u4', 2);`)
	want := map[string]int64{
		"i1 instance/i1 organization " + orgs:      2,
		"i1 organization/o1 user " + users:         3,
		"i1 organization/o1 user_machine " + users: 1,
		"i1 organization/o2 user " + users:         1,
		"i1 organization/o2 user_machine " + users: 1,
	}
	assert.Equal(t, want, scrape(t, src).amounts(), "inserts count up, machine users separately")

	// user_machine does not track updates: a machine user turned human is
	// still counted as a machine, and its deletion no longer counts down.
	d.Exec(t, `DELETE FROM projections.users14 WHERE id IN ('u1', 'u3');
		UPDATE projections.users14 SET type = 1 WHERE id = 'u2';
		DELETE FROM projections.users14 WHERE id = 'u2';`)
	want["i1 organization/o1 user "+users] = 0
	assert.Equal(t, want, scrape(t, src).amounts(), "deletes count down to a zero row that stays")

	d.Exec(t, `INSERT INTO projections.login_policies5 (instance_id, aggregate_id, force_mfa, force_mfa_local_only)
		VALUES ('i1', 'i1', false, false)`)
	want["i1 instance/i1 login_policy "+policies] = 1
	assert.Equal(t, want, scrape(t, src).amounts(), "enforce_mfa is counted only once MFA is forced")

	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa = true;
		UPDATE projections.login_policies5 SET force_mfa_local_only = true;`)
	want["i1 instance/i1 enforce_mfa "+policies] = 1
	assert.Equal(t, want, scrape(t, src).amounts(), "enforce_mfa counts up once when the condition becomes true")

	d.Exec(t, `UPDATE projections.login_policies5 SET force_mfa = false, force_mfa_local_only = false;
		UPDATE projections.login_policies5 SET force_mfa = NULL;`)
	want["i1 instance/i1 enforce_mfa "+policies] = 0
	assert.Equal(t, want, scrape(t, src).amounts(), "enforce_mfa counts down when the condition becomes false; NULL never fires")

	d.Exec(t, `DELETE FROM projections.login_policies5;
		INSERT INTO projections.notification_policies (instance_id, id, password_change) VALUES ('i1', 'n1', true);
		UPDATE projections.notification_policies SET password_change = false;
		UPDATE projections.notification_policies SET password_change = true;
		INSERT INTO projections.user_metadata5 (instance_id, resource_owner, user_id, key) VALUES
			('i1', 'o1', 'u4', 'urn:zitadel:scim:emails'), ('i1', 'o1', 'u4', 'nickname');
		INSERT INTO projections.projects4 (instance_id, resource_owner, id) VALUES ('i1', 'o1', 'p1');
		UPDATE projections.resource_counts SET amount = 0 WHERE resource_name = 'project';
		DELETE FROM projections.projects4;`)
	want["i1 instance/i1 login_policy "+policies] = 0
	want["i1 instance/i1 password_change_notification "+notif] = 1
	want["i1 organization/o1 scim_provisioned_user "+metadata] = 1
	want["i1 organization/o1 project "+projects] = 0
	assert.Equal(t, want, scrape(t, src).amounts(), "tracked updates, SCIM metadata only, and a floor at zero")

	d.Exec(t, `DELETE FROM projections.orgs1 WHERE id = 'o2'`)
	want["i1 instance/i1 organization "+orgs] = 1
	delete(want, "i1 organization/o2 user "+users)
	delete(want, "i1 organization/o2 user_machine "+users)
	assert.Equal(t, want, scrape(t, src).amounts(), "deleting an organization removes the counts under it")

	d.AddInstance(t, "i2", time.Now())
	// A provider added through the current API is a template only.
	d.Exec(t, `INSERT INTO projections.instance_members4 (instance_id, resource_owner, user_id) VALUES ('i2', 'i2', 'u9');
		INSERT INTO projections.idp_templates6 (instance_id, id) VALUES ('i2', 'idp0');
		INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i2', 'o3');
		INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES ('i2', 'o3', 'u10', 1);`)
	want["i2 instance/i2 iam_admin "+members] = 1
	want["i2 instance/i2 identity_provider "+templates] = 1
	want["i2 instance/i2 organization "+orgs] = 1
	want["i2 organization/o3 user "+users] = 1
	assert.Equal(t, want, scrape(t, src).amounts(), "a provider of the current API: one row, of idp_templates6")

	// A legacy provider is in both tables: the idps3 row appears.
	d.Exec(t, `INSERT INTO projections.idps3 (instance_id, id) VALUES ('i2', 'idp1');
		INSERT INTO projections.idp_templates6 (instance_id, id) VALUES ('i2', 'idp1');`)
	want["i2 instance/i2 identity_provider "+idps] = 1
	want["i2 instance/i2 identity_provider "+templates] = 2
	assert.Equal(t, want, scrape(t, src).amounts(), "a legacy provider counted from both of its tables, as ZITADEL v4.13 does")

	d.Exec(t, `DELETE FROM projections.instances WHERE id = 'i2'`)
	delete(want, "i2 instance/i2 iam_admin "+members)
	delete(want, "i2 instance/i2 identity_provider "+idps)
	delete(want, "i2 instance/i2 identity_provider "+templates)
	delete(want, "i2 instance/i2 organization "+orgs)
	assert.Equal(t, want, scrape(t, src).amounts(),
		"deleting an instance removes the counts whose parent is the instance, not those under its organizations")

	d.Exec(t, `DELETE FROM projections.orgs1 WHERE id = 'o3'`)
	delete(want, "i2 organization/o3 user "+users)
	assert.Equal(t, want, scrape(t, src).amounts())
}

func TestInstancesSystemIDAndVersion(t *testing.T) {
	d := zitadeldbtest.New(t)
	created := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	d.AddInstance(t, "i1", created, "login.example.com", "i1-abc.zitadel.cloud", "auth.example.com")
	d.AddInstance(t, "i2", created.Add(time.Hour)) // no domain: ZITADEL drops it, the receiver does not
	d.AddSystemEvent(t, "system.id.generated", `{"id": "first"}`)
	d.SetupRun(t, "v4.12.0")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "newest"}`)
	d.SetupRun(t, "v4.13.1")
	d.AddSystemEvent(t, "system.migration.repeatable.done", `{"name": "repeatable_user_count_trigger", "lastRun": {"version": "v9"}}`)
	d.AddSystemEvent(t, "system.migration.started", `{"name": "projection_tables"}`)

	rec := scrape(t, startSource(t, dbConfig(d), nil))
	assert.Equal(t, []model.Instance{
		{SystemID: "newest", Version: "v4.13.1", ID: "i1", CreatedAt: created,
			Domains: []string{"login.example.com", "auth.example.com", "i1-abc.zitadel.cloud"}},
		{SystemID: "newest", Version: "v4.13.1", ID: "i2", CreatedAt: created.Add(time.Hour), Domains: []string{}},
	}, normalized(rec.instances))
}

func TestNoEventsLeavesSystemIDAndVersionEmpty(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now(), "a.example.com")
	rec := scrape(t, startSource(t, dbConfig(d), nil))
	require.Len(t, rec.instances, 1)
	assert.Empty(t, rec.instances[0].SystemID)
	assert.Empty(t, rec.instances[0].Version)

	cfg := dbConfig(d)
	cfg.EventsTable = ""
	d.AddSystemEvent(t, "system.id.generated", `{"id": "s"}`)
	rec = scrape(t, startSource(t, cfg, nil))
	require.Len(t, rec.instances, 1)
	assert.Empty(t, rec.instances[0].SystemID, "an empty events_table reads no event")
}

func normalized(in []model.Instance) []model.Instance {
	for i := range in {
		in[i].CreatedAt = in[i].CreatedAt.UTC()
	}
	return in
}

// TestPagesAcrossIDGaps reads tables whose sizes fall on and off page
// boundaries, with ids as sparse as ZITADEL's upserts leave them.
func TestPagesAcrossIDGaps(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, `INSERT INTO projections.resource_counts (id, instance_id, table_name, parent_type, parent_id, resource_name, amount)
		SELECT n * n + 3, 'i1', 'projections.users14', 'organization', 'o' || n, 'user', n % 3
		FROM generate_series(1, 10) n`)

	for _, pageSize := range []int{1, 3, 5, 10, 11, 10000} {
		t.Run(fmt.Sprintf("page_size=%d", pageSize), func(t *testing.T) {
			cfg := dbConfig(d)
			cfg.PageSize = pageSize
			rec := scrape(t, startSource(t, cfg, nil))
			require.Len(t, rec.counts, 10)
			for i, c := range rec.counts {
				n := i + 1
				assert.Equal(t, model.Count{
					InstanceID: "i1", ParentType: "organization", ParentID: fmt.Sprint("o", n),
					Resource: "user", Table: "projections.users14", Amount: int64(n % 3),
				}, c)
			}
		})
	}
}

func TestInstanceAndResourceFilters(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now(), "a.example.com")
	d.AddInstance(t, "i2", time.Now(), "b.example.com")
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1'), ('i2', 'o2');
		INSERT INTO projections.projects4 (instance_id, resource_owner, id) VALUES ('i1', 'o1', 'p1'), ('i2', 'o2', 'p2');`)

	cfg := dbConfig(d)
	cfg.Instances = []string{"i2"}
	rec := scrape(t, startSource(t, cfg, model.NewResourceFilter([]string{"project"})))
	require.Len(t, rec.instances, 1)
	assert.Equal(t, "i2", rec.instances[0].ID)
	assert.Equal(t, map[string]int64{"i2 organization/o2 project projections.projects4": 1}, rec.amounts())
}

func TestUpdatedAtOnlyWhenAsked(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1')`)
	var updated time.Time
	require.NoError(t, d.Conn.QueryRow(t.Context(), "SELECT updated_at FROM projections.resource_counts").Scan(&updated))

	rec := scrape(t, startSource(t, dbConfig(d), nil))
	require.Len(t, rec.counts, 1)
	assert.True(t, rec.counts[0].UpdatedAt.IsZero())

	cfg := dbConfig(d)
	cfg.UpdatedAtAttribute = true
	rec = scrape(t, startSource(t, cfg, nil))
	require.Len(t, rec.counts, 1)
	assert.True(t, updated.Equal(rec.counts[0].UpdatedAt), "got %s, want %s", rec.counts[0].UpdatedAt, updated)
}

// TestEveryQueryIsReadOnly lets PostgreSQL itself check every read: a row
// security policy on each relation fails outside a read-only transaction.
func TestEveryQueryIsReadOnly(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, `CREATE FUNCTION public.assert_read_only() RETURNS boolean LANGUAGE plpgsql AS $$
		BEGIN
			IF current_setting('transaction_read_only') <> 'on' THEN
				RAISE EXCEPTION 'read outside a read-only transaction';
			END IF;
			RETURN true;
		END $$`)
	for _, rel := range []string{"projections.resource_counts", "projections.instances", "projections.instance_domains", "eventstore.events2"} {
		d.Exec(t, fmt.Sprintf(`ALTER TABLE %s ENABLE ROW LEVEL SECURITY;
			CREATE POLICY read_only ON %s FOR SELECT USING (public.assert_read_only())`, rel, rel))
	}
	d.AddInstance(t, "i1", time.Now(), "a.example.com")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "s"}`)
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1')`)
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)

	cfg := dbConfig(d)
	cfg.Username, cfg.Password = role.Name, configopaqueString(role.Password)
	rec := scrape(t, startSource(t, cfg, nil))
	assert.Len(t, rec.instances, 1)
	assert.Len(t, rec.counts, 1)
	assert.Equal(t, "s", rec.instances[0].SystemID)

	// The policy does fail a read that is not read-only.
	_, err := d.Conn.Exec(t.Context(), fmt.Sprintf("SET ROLE %q; SELECT * FROM projections.resource_counts; RESET ROLE", role.Name))
	require.ErrorContains(t, err, "read outside a read-only transaction")
	d.Exec(t, "RESET ROLE")
}

func TestPrivilegesNamedInErrors(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, "i1", time.Now(), "a.example.com")
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1')`)
	d.AddSystemEvent(t, "system.id.generated", `{"id": "s"}`)
	role := d.CreateRole(t)
	cfg := dbConfig(d)
	cfg.Username, cfg.Password = role.Name, configopaqueString(role.Password)
	src := startSource(t, cfg, nil)

	err := src.Scrape(t.Context(), &recording{})
	require.Error(t, err)
	assert.False(t, scrapererror.IsPartialScrapeError(err), "nothing was read")
	for _, want := range []string{
		"reading the system id and version: permission denied for schema eventstore: grant USAGE ON SCHEMA eventstore TO " + role.Name,
		"reading instances: permission denied for schema projections: grant USAGE ON SCHEMA projections TO " + role.Name,
		"reading resource counts: permission denied for schema projections: grant USAGE ON SCHEMA projections TO " + role.Name,
	} {
		assert.ErrorContains(t, err, want)
	}

	d.Grant(t, role, "GRANT USAGE ON SCHEMA projections, eventstore TO %s",
		"GRANT SELECT ON projections.resource_counts, projections.instances TO %s")
	rec := &recording{}
	err = src.Scrape(t.Context(), rec)
	require.Error(t, err)
	assert.True(t, scrapererror.IsPartialScrapeError(err), "the counts were read: %v", err)
	assert.Len(t, rec.counts, 1)
	assert.ErrorContains(t, err, "reading the system id and version: permission denied for table events2: grant SELECT ON eventstore.events2 TO "+role.Name)
	assert.ErrorContains(t, err, "reading instances: permission denied for table instance_domains: grant SELECT ON projections.instance_domains TO "+role.Name)

	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	rec = scrape(t, src)
	assert.Len(t, rec.instances, 1)
	assert.Len(t, rec.counts, 1)
}

func TestMissingTableNamed(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, "DROP TABLE projections.resource_counts CASCADE")
	cfg := dbConfig(d)
	cfg.EventsTable = "eventstore.no_such_view"
	err := startSource(t, cfg, nil).Scrape(t.Context(), &recording{})
	assert.ErrorContains(t, err, `reading resource counts: relation "projections.resource_counts" does not exist`)
	assert.ErrorContains(t, err, `reading the system id and version: relation "eventstore.no_such_view" does not exist: read eventstore.no_such_view`)
}

// TestNarrowEventsView reads the system id and version through README's view
// with README's grants, without access to eventstore.events2.
func TestNarrowEventsView(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, EventsView())
	d.AddInstance(t, "i1", time.Now(), "a.example.com")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "s"}`)
	d.SetupRun(t, "v4.13.1")
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ViewReaderGrants...)

	cfg := dbConfig(d)
	cfg.Username, cfg.Password = role.Name, configopaqueString(role.Password)
	cfg.EventsTable = EventsViewName
	rec := scrape(t, startSource(t, cfg, nil))
	require.Len(t, rec.instances, 1)
	assert.Equal(t, "s", rec.instances[0].SystemID)
	assert.Equal(t, "v4.13.1", rec.instances[0].Version)

	_, err := d.Conn.Exec(t.Context(), fmt.Sprintf("SET ROLE %q; SELECT * FROM eventstore.events2", role.Name))
	assert.ErrorContains(t, err, "permission denied for table events2")
	d.Exec(t, "RESET ROLE")
}

// TestConnectionLostMidReadThenReconnects ends the session between two pages:
// the scrape returns what it read with an error, the next one reads it all.
func TestConnectionLostMidReadThenReconnects(t *testing.T) {
	d := zitadeldbtest.New(t)
	// The next page is read while one is recorded, so the session ends while
	// many pages are still to come.
	d.Exec(t, `INSERT INTO projections.resource_counts (instance_id, table_name, parent_type, parent_id, resource_name)
		SELECT 'i1', 'projections.users14', 'organization', 'o' || n, 'user' FROM generate_series(1, 1000) n`)
	cfg := dbConfig(d)
	cfg.PageSize = 10
	src := startSource(t, cfg, nil)

	terminated := 0
	rec := &recording{onCount: func(n int) {
		if n == 1 {
			terminated = d.TerminateBackends(t)
		}
	}}
	err := src.Scrape(t.Context(), rec)
	require.Error(t, err)
	assert.Positive(t, terminated)
	assert.True(t, scrapererror.IsPartialScrapeError(err), "counts were read before the loss: %v", err)
	assert.ErrorContains(t, err, "reading resource counts: ")
	assert.Less(t, len(rec.counts), 1000)
	assert.GreaterOrEqual(t, len(rec.counts), 10)

	assert.Len(t, scrape(t, src).counts, 1000, "the next scrape reconnects")
}

func TestServerDownIsAScrapeError(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Endpoint = closedPort(t)
	cfg.Username = "reader"
	cfg.Password = "secret-password"
	cfg.Timeout = 5 * time.Second
	src := startSource(t, &cfg, nil)
	err := src.Scrape(t.Context(), &recording{})
	require.Error(t, err)
	assert.False(t, scrapererror.IsPartialScrapeError(err))
	assert.Contains(t, err.Error(), "reading the system id and version")
	assert.NotContains(t, err.Error(), "reading instances", "a broken session ends the scrape")
	assert.NotContains(t, err.Error(), "secret-password")
}

func TestPasswordFileIsReadForEveryConnection(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, `INSERT INTO projections.orgs1 (instance_id, id) VALUES ('i1', 'o1')`)
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	file := writeFile(t, role.Password+"\n")

	cfg := dbConfig(d)
	cfg.Username, cfg.PasswordFile = role.Name, file
	src := startSource(t, cfg, nil)
	assert.Len(t, scrape(t, src).counts, 1)

	d.Exec(t, fmt.Sprintf("ALTER ROLE %q PASSWORD 'rotated'", role.Name))
	writeFileAt(t, file, "rotated\n")
	d.TerminateBackends(t)
	assert.Len(t, scrape(t, src).counts, 1)
}

// TestREADMETellsWhereIdentityProvidersAreCounted: wherever the zitadel receiver's README
// speaks of identity_provider's two tables, it says what the database
// shows above: a provider of the current API is only in idp_templates6, a
// row of idps3 comes only with a legacy provider.
func TestREADMETellsWhereIdentityProvidersAreCounted(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	found := 0
	for _, block := range regexp.MustCompile(`\n\s*\n|\n\||\n- `).Split(string(readme), -1) {
		block = strings.Join(strings.Fields(block), " ")
		if !strings.Contains(block, "identity_provider") || !(strings.Contains(block, "two tables") || strings.Contains(block, "idps3")) {
			continue
		}
		found++
		assert.Contains(t, block, "only in `projections.idp_templates6`", block)
		assert.Contains(t, block, "only once a legacy provider", block)
		assert.NotContains(t, block, "two rows", block)
	}
	assert.Equal(t, 2, found, "the provider table row and the database section")
}
