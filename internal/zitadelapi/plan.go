package zitadelapi

import (
	"slices"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// What the API can count, per level. action_v1 has no instance-wide list:
// its instance total is the sum over the organizations.
var (
	instanceResources = []string{
		model.ResourceOrganization,
		model.ResourceIAMAdmin,
		model.ResourceIdentityProvider,
		model.ResourceExecution,
		model.ResourceExecutionTarget,
		model.ResourceSession,
		model.ResourceUser,
		model.ResourceUserMachine,
	}
	organizationResources = []string{
		model.ResourceUser,
		model.ResourceUserMachine,
		model.ResourceProject,
		model.ResourceApplication,
		model.ResourceAuthorization,
		model.ResourceIdentityProvider,
		model.ResourceActionV1,
	}
)

// plan is what one scrape counts, fixed when the source is built so that no
// call is made for a resource nobody asked for.
type plan struct {
	instance []string // one call each
	org      []string // per organization; empty without per_organization
	// actionSum records action_v1 per instance as the sum over organizations.
	actionSum bool
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
		p.actionSum = slices.Contains(p.org, model.ResourceActionV1)
	}
	return p
}

// enumerates reports whether organizations must be listed.
func (p plan) enumerates() bool { return len(p.org) > 0 }

// countsInstance reports whether resource is an instance total of this plan.
func (p plan) countsInstance(resource string) bool { return slices.Contains(p.instance, resource) }
