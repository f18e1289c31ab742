package fakezitadel

import (
	"slices"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// ExpectedInstances is what the api source should record for each instance,
// apart from the system id.
func (ds *Dataset) ExpectedInstances() []model.Instance {
	out := make([]model.Instance, 0, len(ds.Instances))
	for _, in := range ds.Instances {
		domains := []string{in.PrimaryDomain()}
		for _, d := range in.Domains {
			if !d.Primary {
				domains = append(domains, d.Name)
			}
		}
		out = append(out, model.Instance{Version: ds.Version, ID: in.ID, Domains: domains, CreatedAt: in.CreatedAt})
	}
	return out
}

// ExpectedCounts is every count a scrape of the whole dataset with the
// default resources should record, instance totals first.
func (ds *Dataset) ExpectedCounts() []model.Count {
	var out []model.Count
	for _, in := range ds.Instances {
		total := func(resource string, n int) {
			out = append(out, model.Count{InstanceID: in.ID, ParentType: model.ParentInstance, ParentID: in.ID, Resource: resource, Amount: int64(n)})
		}
		actions := 0
		for _, o := range in.Orgs {
			actions += o.Actions
		}
		total(model.ResourceOrganization, len(in.Orgs))
		total(model.ResourceIAMAdmin, in.IAMAdmins)
		total(model.ResourceIdentityProvider, in.IdPs)
		total(model.ResourceActionV1, actions)
		total(model.ResourceExecution, in.Executions)
		total(model.ResourceExecutionTarget, in.Targets)
		total(model.ResourceSession, in.ActiveSessions(time.Now()))
		total(model.ResourceUser, in.users)
		total(model.ResourceUserMachine, in.machines)
		f := in.Features()
		total(model.ResourceLoginPolicy, f.LoginPolicies)
		total(model.ResourceEnforceMFA, f.EnforceMFA)
		total(model.ResourcePasswordComplexityPolicy, f.PasswordComplexity)
		total(model.ResourcePasswordExpiryPolicy, f.PasswordExpiry)
		total(model.ResourceLockoutPolicy, f.Lockout)
		total(model.ResourcePasswordChangeNotification, f.PasswordChangeNotification)
		total(model.ResourceIdentityProviderLDAP, f.LDAPIdPs)
		for _, o := range in.Orgs {
			per := func(resource string, n int) {
				out = append(out, model.Count{InstanceID: in.ID, ParentType: model.ParentOrganization, ParentID: o.ID, Resource: resource, Amount: int64(n)})
			}
			per(model.ResourceUser, o.Users)
			per(model.ResourceUserMachine, o.Machines)
			per(model.ResourceProject, len(o.Projects))
			per(model.ResourceApplication, o.Apps())
			per(model.ResourceAuthorization, o.Grants)
			per(model.ResourceIdentityProvider, o.IdPs)
			per(model.ResourceActionV1, o.Actions)
			login, inherited := o.Login(in)
			per(model.ResourceOrganizationEnforceMFA, b2i(login.EnforcesMFA()))
			per(model.ResourceOrganizationCustomLoginPolicy, b2i(!inherited))
			per(model.ResourceOrganizationVerifiedCustomDomain, o.VerifiedCustomDomains(in))
		}
	}
	return out
}

// ExpectedReported is what ZITADEL's report of a default scrape carries:
// ExpectedCounts without the collector's own names, which the exporter
// leaves out unless its send_resources lists them.
func (ds *Dataset) ExpectedReported() []model.Count {
	var out []model.Count
	for _, c := range ds.ExpectedCounts() {
		if !slices.Contains(model.CollectorOnly, c.Resource) {
			out = append(out, c)
		}
	}
	return out
}
