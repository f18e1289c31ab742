package zitadelapi

import (
	"slices"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// What the API can count, per level.
var (
	// instanceResources are instance totals that one call each gives
	// (user_by_state: one per state and type).
	instanceResources = []string{
		model.ResourceOrganization,
		model.ResourceIAMAdmin,
		model.ResourceIdentityProvider,
		model.ResourceExecution,
		model.ResourceExecutionTarget,
		model.ResourceSession,
		model.ResourceUser,
		model.ResourceUserMachine,
		model.ResourceUserByState,
	}
	organizationResources = []string{
		model.ResourceUser,
		model.ResourceUserMachine,
		model.ResourceProject,
		model.ResourceApplication,
		model.ResourceAuthorization,
		model.ResourceIdentityProvider,
		model.ResourceActionV1,
		model.ResourceOrganizationEnforceMFA,
		model.ResourceOrganizationCustomLoginPolicy,
		model.ResourceOrganizationVerifiedCustomDomain,
		model.ResourceUserByState,
	}
	// summedResources are instance totals no single call gives: the sum over
	// the organizations, plus what the instance itself holds. For the
	// policies that is ZITADEL's counting: the instance's default row plus
	// one row per organization with a policy of its own. action_v1 has no
	// instance-wide list; identity_provider_ldap needs every provider's type.
	summedResources = []string{
		model.ResourceActionV1,
		model.ResourceLoginPolicy,
		model.ResourceEnforceMFA,
		model.ResourcePasswordComplexityPolicy,
		model.ResourcePasswordExpiryPolicy,
		model.ResourceLockoutPolicy,
		model.ResourcePasswordChangeNotification,
		model.ResourceIdentityProviderLDAP,
	}
)

// plan is what one scrape counts, fixed when the source is built so that no
// call is made for a resource nobody asked for.
type plan struct {
	instance []string // one call each
	org      []string // per organization; empty without per_organization
	// sums are instance totals worked out from every organization; empty
	// without per_organization, since they need every organization's answer.
	sums []string
}

func newPlan(filter model.ResourceFilter, perOrganization bool) plan {
	var p plan
	for _, r := range instanceResources {
		if filter.Selected(r) {
			p.instance = append(p.instance, r)
		}
	}
	if perOrganization {
		for _, r := range organizationResources {
			if filter.Selected(r) {
				p.org = append(p.org, r)
			}
		}
		for _, r := range summedResources {
			if filter.Selected(r) {
				p.sums = append(p.sums, r)
			}
		}
	}
	return p
}

// enumerates reports whether organizations must be listed.
func (p plan) enumerates() bool { return len(p.org) > 0 || len(p.sums) > 0 }

// countsInstance reports whether resource is an instance total of this plan.
func (p plan) countsInstance(resource string) bool { return slices.Contains(p.instance, resource) }

// sums reports whether resource is an instance total summed over organizations.
func (p plan) sumsUp(resource string) bool { return slices.Contains(p.sums, resource) }

// countsOrg reports whether resource is a per-organization count of this plan.
func (p plan) countsOrg(resource string) bool { return slices.Contains(p.org, resource) }
