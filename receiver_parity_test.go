package zitadeltelemetry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// writeInstallation writes the dataset's first instance into ZITADEL's
// tables the way ZITADEL's projections hold it: the default policies as rows
// of the instance's aggregate, an organization's own policies as rows of the
// organization's, and every LDAP provider of the instance and its
// organizations as a template row. The triggers then count as ZITADEL does.
func writeInstallation(t *testing.T, d *zitadeldbtest.DB, in *fakezitadel.Instance) {
	t.Helper()
	d.AddInstance(t, in.ID, in.CreatedAt, in.PrimaryDomain())
	d.AddSystemEvent(t, "system.id.generated", `{"id": "parity-system"}`)
	d.SetupRun(t, "v4.13.1")
	var sql strings.Builder
	row := func(format string, args ...any) { fmt.Fprintf(&sql, format+";\n", args...) }
	login := func(owner string, p fakezitadel.LoginPolicy) {
		row(`INSERT INTO projections.login_policies5 (instance_id, aggregate_id, force_mfa, force_mfa_local_only) VALUES ('%s', '%s', %t, %t)`,
			in.ID, owner, p.ForceMFA, p.ForceMFALocalOnly)
	}
	policy := func(table, owner string) {
		row(`INSERT INTO projections.%s (instance_id, id) VALUES ('%s', '%s')`, table, in.ID, owner)
	}
	notification := func(owner string, passwordChange bool) {
		row(`INSERT INTO projections.notification_policies (instance_id, id, password_change) VALUES ('%s', '%s', %t)`,
			in.ID, owner, passwordChange)
	}
	ldap := func(owner string, n int) {
		for k := range n {
			row(`INSERT INTO projections.idp_templates6_ldap2 (instance_id, idp_id) VALUES ('%s', '%s-ldap-%d')`, in.ID, owner, k)
		}
	}
	login(in.ID, in.Defaults.Login)
	notification(in.ID, in.Defaults.PasswordChangeNotification)
	for _, table := range []string{"password_complexity_policies2", "password_age_policies2", "lockout_policies3"} {
		policy(table, in.ID)
	}
	ldap(in.ID, in.LDAPIdPs)
	for _, o := range in.Orgs {
		row(`INSERT INTO projections.orgs1 (instance_id, id) VALUES ('%s', '%s')`, in.ID, o.ID)
		for u := range o.Users {
			kind := 1
			if u < o.Machines {
				kind = 2
			}
			row(`INSERT INTO projections.users14 (instance_id, resource_owner, id, type) VALUES ('%s', '%s', '%s-u%d', %d)`,
				in.ID, o.ID, o.ID, u, kind)
		}
		if p := o.Policies.Login; p != nil {
			login(o.ID, *p)
		}
		if p := o.Policies.Notification; p != nil {
			notification(o.ID, *p)
		}
		for table, own := range map[string]bool{
			"password_complexity_policies2": o.Policies.PasswordComplexity,
			"password_age_policies2":        o.Policies.PasswordAge, "lockout_policies3": o.Policies.Lockout,
		} {
			if own {
				policy(table, o.ID)
			}
		}
		ldap(o.ID, o.LDAPIdPs)
	}
	d.Exec(t, sql.String())
}

// instanceCounts reads the instance-parent counts of resources from a scrape;
// a resource ZITADEL has no row for is 0, as ZITADEL reads a missing row.
func instanceCounts(md pmetric.Metrics, resources []string) map[string]int64 {
	out := make(map[string]int64, len(resources))
	for _, r := range resources {
		out[r] = 0
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		points := rms.At(i).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
		for k := range points.Len() {
			attrs := points.At(k).Attributes()
			name, _ := attrs.Get(contract.AttrResourceName)
			parent, _ := attrs.Get(contract.AttrParentType)
			if _, ok := out[name.Str()]; ok && parent.Str() == model.ParentInstance {
				out[name.Str()] = points.At(k).IntValue()
			}
		}
	}
	return out
}

// TestAPIAndDatabaseCountFeatureUsageAlike scrapes one installation through
// both sources: ZITADEL's triggers over its tables, and the API over the
// same installation served by the fake ZITADEL. The feature-usage counts must
// be the same numbers.
func TestAPIAndDatabaseCountFeatureUsageAlike(t *testing.T) {
	d := zitadeldbtest.New(t)
	spec := fakezitadel.DefaultSpec()
	spec.Instances, spec.OrgsPerInstance, spec.MaxIdPsPerOrg = 1, 30, 3
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}})
	require.NoError(t, srv.Start("127.0.0.1:0", ""))
	t.Cleanup(srv.Close)
	writeInstallation(t, d, srv.Dataset().Instances[0])

	resources := []string{
		model.ResourceLoginPolicy, model.ResourceEnforceMFA, model.ResourcePasswordComplexityPolicy,
		model.ResourcePasswordExpiryPolicy, model.ResourceLockoutPolicy, model.ResourcePasswordChangeNotification,
		model.ResourceIdentityProviderLDAP, model.ResourceOrganization,
	}
	scrapeWith := func(cfg *ReceiverConfig) map[string]int64 {
		t.Helper()
		cfg.Resources = resources
		s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
		require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
		defer func() { require.NoError(t, s.shutdown(context.Background())) }()
		md, err := s.scrape(t.Context())
		require.NoError(t, err)
		return instanceCounts(md, resources)
	}
	fromDB := scrapeWith(dbReceiverConfig(d))
	fromAPI := scrapeWith(apiReceiverConfig(srv))
	assert.Equal(t, fromDB, fromAPI)
	assert.Greater(t, fromDB[model.ResourceLoginPolicy], int64(1), "some organizations have their own login policy")
	assert.Positive(t, fromDB[model.ResourceIdentityProviderLDAP])
}

// TestSourcesOrderDomainsAlike: one instance's domains are one label value,
// whichever way its information came: the api source reads them with a
// primary flag, ZITADEL's service ping sends them in its own order (the
// generated domain first) without one. With the primary domain sorting last
// and a custom one added after it, neither "primary first" nor ZITADEL's
// order is sorted. Both give them sorted: the api source here, the
// zitadeltelemetry receiver in TestInstanceInfoSortsTheDomains.
func TestSourcesOrderDomainsAlike(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	ds := fakezitadel.Generate(spec)
	in := ds.Instances[0]
	for i := range in.Domains {
		if in.Domains[i].Primary {
			in.Domains[i].Name = "login.zz.example.com"
		}
	}
	in.Domains = append(in.Domains, fakezitadel.Domain{Name: "auth.example.com"})
	srv := fakezitadel.NewServer(ds, fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}})
	require.NoError(t, srv.Start("127.0.0.1:0", ""))
	t.Cleanup(srv.Close)
	s := testScraper(t, apiReceiverConfig(srv), componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)
	api := domainsLabel(t, md)

	var zitadelOrder []string
	for _, d := range in.Domains {
		zitadelOrder = append(zitadelOrder, d.Name)
	}
	require.False(t, slices.IsSorted(zitadelOrder))
	assert.Equal(t, slices.Sorted(slices.Values(zitadelOrder)), api)
}

// domainsLabel is the zitadel.instance.domains of the one resource in md.
func domainsLabel(t *testing.T, md pmetric.Metrics) []string {
	t.Helper()
	require.Equal(t, 1, md.ResourceMetrics().Len())
	v, ok := md.ResourceMetrics().At(0).Resource().Attributes().Get(contract.ResAttrDomains)
	require.True(t, ok)
	var out []string
	for _, d := range v.Slice().All() {
		out = append(out, d.Str())
	}
	return out
}
