package zitadelapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// policyResources are ZITADEL's feature-usage counts, instance parent only.
var policyResources = []string{
	model.ResourceLoginPolicy, model.ResourceEnforceMFA, model.ResourcePasswordComplexityPolicy,
	model.ResourcePasswordExpiryPolicy, model.ResourceLockoutPolicy, model.ResourcePasswordChangeNotification,
	model.ResourceIdentityProviderLDAP,
}

// TestFeatureUsageAsZitadelCountsIt checks the policy counts against the
// installation worked out by hand: the default row plus one per organization
// with a policy of its own, enforce_mfa and password_change_notification by
// their switches, and the LDAP providers of the instance and its organizations.
func TestFeatureUsageAsZitadelCountsIt(t *testing.T) {
	spec := oneInstance()
	spec.InstanceIdPs, spec.MaxIdPsPerOrg = 5, 4
	srv := startFake(t, spec, fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PageSize = 1 // providers and domains span pages
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	in := srv.Dataset().Instances[0]

	// Worked out from the dataset's own fields, not through Features.
	login, mfa, complexity, age, lockout, notify, ldap := 1, 0, 1, 1, 1, 0, in.LDAPIdPs
	if in.Defaults.Login.ForceMFA || in.Defaults.Login.ForceMFALocalOnly {
		mfa++
	}
	if in.Defaults.PasswordChangeNotification {
		notify++
	}
	custom := map[string]int64{}
	for _, o := range in.Orgs {
		if p := o.Policies.Login; p != nil {
			login++
			custom[o.ID] = 1
			if p.ForceMFA || p.ForceMFALocalOnly {
				mfa++
			}
		}
		if o.Policies.PasswordComplexity {
			complexity++
		}
		if o.Policies.PasswordAge {
			age++
		}
		if o.Policies.Lockout {
			lockout++
		}
		if p := o.Policies.Notification; p != nil && *p {
			notify++
		}
		ldap += o.LDAPIdPs
	}
	want := map[string]int{
		model.ResourceLoginPolicy: login, model.ResourceEnforceMFA: mfa, model.ResourcePasswordComplexityPolicy: complexity,
		model.ResourcePasswordExpiryPolicy: age, model.ResourceLockoutPolicy: lockout,
		model.ResourcePasswordChangeNotification: notify, model.ResourceIdentityProviderLDAP: ldap,
	}
	for _, res := range policyResources {
		assert.Equal(t, map[string]int64{in.ID: int64(want[res])}, rec.countsFor(model.ParentInstance, res), res)
		assert.Empty(t, rec.countsFor(model.ParentOrganization, res), "%s has the instance as its only parent, as in ZITADEL", res)
	}
	assert.Greater(t, login, 1, "the dataset has organizations with their own login policy")
	assert.Positive(t, ldap, "the dataset has LDAP providers")

	orgCustom := rec.countsFor(model.ParentOrganization, model.ResourceOrganizationCustomLoginPolicy)
	assert.Len(t, orgCustom, len(in.Orgs))
	for id, n := range orgCustom {
		assert.Equal(t, custom[id], n, "organization %s", id)
	}
	assert.Empty(t, srv.ZeroLimitRequests())
}

// TestOrganizationFeatureFigures checks the per-organization figures: MFA as
// the organization's users meet it (its own policy or the inherited default),
// and verified domains apart from the one ZITADEL generates under the
// instance's domain.
func TestOrganizationFeatureFigures(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PageSize = 2
	s := startSource(t, cfg, model.NewResourceFilter([]string{
		model.ResourceOrganizationEnforceMFA, model.ResourceOrganizationVerifiedCustomDomain,
	}))

	rec, err := scrape(t, s)
	require.NoError(t, err)
	in := srv.Dataset().Instances[0]
	mfa := rec.countsFor(model.ParentOrganization, model.ResourceOrganizationEnforceMFA)
	domains := rec.countsFor(model.ParentOrganization, model.ResourceOrganizationVerifiedCustomDomain)
	var enforced, withDomains int
	for _, o := range in.Orgs {
		p := in.Defaults.Login
		if o.Policies.Login != nil {
			p = *o.Policies.Login
		}
		var wantMFA int64
		if p.ForceMFA || p.ForceMFALocalOnly {
			wantMFA = 1
			enforced++
		}
		assert.Equal(t, wantMFA, mfa[o.ID], "organization %s", o.ID)
		var verified int64
		for _, d := range o.Domains[1:] { // the first is the generated one
			if d.Verified {
				verified++
			}
		}
		assert.Equal(t, verified, domains[o.ID], "organization %s", o.ID)
		if verified > 0 {
			withDomains++
		}
	}
	assert.Positive(t, enforced)
	assert.Positive(t, withDomains)
	assert.Len(t, rec.counts, 2*len(in.Orgs), "nothing else was selected")
	assert.Equal(t, int64(len(in.Orgs)), srv.Calls(mgmtpb.ManagementService_GetLoginPolicy_FullMethodName))
	assert.Zero(t, srv.Calls(adminpb.AdminService_GetLoginPolicy_FullMethodName), "no instance sum was selected")
	assert.Zero(t, srv.Calls(mgmtpb.ManagementService_GetLockoutPolicy_FullMethodName))
}

// TestOneLoginPolicyCallServesEveryCountOfIt: login_policy, enforce_mfa and
// both per-organization login figures read one answer per organization.
func TestOneLoginPolicyCallServesEveryCountOfIt(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{
		model.ResourceLoginPolicy, model.ResourceEnforceMFA,
		model.ResourceOrganizationEnforceMFA, model.ResourceOrganizationCustomLoginPolicy,
	}))

	rec, err := scrape(t, s)
	require.NoError(t, err)
	orgs := len(srv.Dataset().Instances[0].Orgs)
	assert.Len(t, rec.counts, 2+2*orgs)
	assert.Equal(t, int64(orgs), srv.Calls(mgmtpb.ManagementService_GetLoginPolicy_FullMethodName))
	assert.Equal(t, int64(1), srv.Calls(adminpb.AdminService_GetLoginPolicy_FullMethodName))
	pages := (orgs + testConfig(srv).PageSize - 1) / testConfig(srv).PageSize
	assert.Equal(t, int64(1+1+pages+orgs), srv.TotalCalls(), "instance, default policy, organization pages, one per organization")
}

// TestFeatureUsageNeedsEveryOrganization: ZITADEL's instance counts are sums
// over organizations, so without per_organization they are not recorded at
// all, and one organization's failed answer leaves its sum out rather than
// recording a number that is too small.
func TestFeatureUsageNeedsEveryOrganization(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	s := startSource(t, cfg, model.NewResourceFilter(policyResources))
	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.Empty(t, rec.counts)
	assert.Equal(t, int64(1), srv.TotalCalls(), "only the instance's details")

	srv.ResetStats()
	srv.FailCalls(mgmtpb.ManagementService_GetLockoutPolicy_FullMethodName, codes.Internal, 1)
	s = startSource(t, testConfig(srv), model.NewResourceFilter(policyResources))
	rec, err = scrape(t, s)
	require.Error(t, err)
	assert.ErrorContains(t, err, "lockout_policy: rpc error: code = Internal")
	assert.Empty(t, rec.countsFor(model.ParentInstance, model.ResourceLockoutPolicy))
	f := srv.Dataset().Instances[0].Features()
	assert.Equal(t, int64(f.PasswordExpiry), rec.countsFor(model.ParentInstance, model.ResourcePasswordExpiryPolicy)[srv.Dataset().Instances[0].ID])
	assert.Len(t, rec.counts, len(policyResources)-1)

	srv.FailCalls(adminpb.AdminService_GetLoginPolicy_FullMethodName, codes.Internal, 1)
	rec, err = scrape(t, s)
	require.Error(t, err)
	assert.Empty(t, rec.countsFor(model.ParentInstance, model.ResourceLoginPolicy), "the default row is part of the sum")
	assert.Empty(t, rec.countsFor(model.ParentInstance, model.ResourceEnforceMFA))
	assert.Len(t, rec.counts, len(policyResources)-2)
}
