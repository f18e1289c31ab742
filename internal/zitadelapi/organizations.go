package zitadelapi

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orgpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// enumerate pages through the instance's organizations and queues one job
// per organization. Organizations created or removed while paging can shift
// the pages; an id seen twice is counted once.
func (r *scrapeRun) enumerate(inst *instanceRun) {
	pageSize := uint32(r.src.cfg.PageSize)
	seen := make(map[string]struct{})
	for offset := uint64(0); ; {
		var page []*orgpb.Organization
		var totalResult uint64
		n, out := r.count(inst, "", model.ResourceOrganization, func() (int64, error) {
			var err error
			page, totalResult, err = r.src.client.listOrganizations(r.ctx, inst.sc, offset, pageSize)
			return total(totalResult), err
		})
		if out != counted {
			inst.abandonSums()
			return
		}
		if offset == 0 && r.src.plan.countsInstance(model.ResourceOrganization) {
			r.recordCount(inst, model.ParentInstance, inst.id, model.ResourceOrganization, n)
		}
		for _, o := range page {
			id := o.GetId()
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if !r.submit(func() { r.countOrganization(inst, id) }) {
				r.stopped(inst)
				return
			}
		}
		offset += uint64(len(page))
		if len(page) == 0 || offset >= totalResult {
			return
		}
	}
}

// countOrganization counts the planned resources of one organization and
// records them together, or not at all when the organization turns out to
// have been deleted since it was listed. Its shares of the summed instance
// totals are added at the same time, for the same reason.
func (r *scrapeRun) countOrganization(inst *instanceRun, orgID string) {
	j := &orgJob{r: r, inst: inst, sc: scope{host: inst.sc.host, orgID: orgID}}
	type amount struct {
		resource string
		n        int64
	}
	amounts := make([]amount, 0, len(r.src.plan.org))
	outcomes := make(map[string]outcome, len(r.src.plan.org))
	var states []userStateCount
	for _, res := range r.src.plan.org {
		if res == model.ResourceUserByState {
			var out outcome
			if states, out = r.countUserStates(inst, orgID); out == gone {
				return
			}
			continue
		}
		n, out := r.count(inst, orgID, res, func() (int64, error) { return j.count(res) })
		if out == gone {
			return
		}
		outcomes[res] = out
		if out == counted {
			amounts = append(amounts, amount{res, n})
		}
	}
	shares := make([]amount, 0, len(r.src.plan.sums))
	for _, res := range r.src.plan.sums {
		out, done := outcomes[res]
		var n int64
		if done {
			// Counted above already (action_v1): its failure is reported once.
			n = j.done[res]
		} else {
			n, out = r.count(inst, orgID, res, func() (int64, error) { return j.share(res) })
		}
		switch out {
		case gone:
			return
		case failed:
			inst.incomplete(res)
			continue
		}
		shares = append(shares, amount{res, n})
	}
	oc := &orgCounts{shares: make(map[string]int64, len(shares))}
	for _, a := range shares {
		inst.add(a.resource, a.n)
		oc.shares[a.resource] = a.n
	}
	for _, a := range amounts {
		oc.counts = append(oc.counts, model.Count{
			InstanceID: inst.id, ParentType: model.ParentOrganization, ParentID: orgID, Resource: a.resource, Amount: a.n,
		})
	}
	oc.counts = append(oc.counts, userStateCounts(inst.id, model.ParentOrganization, orgID, states)...)
	r.recordCounts(oc.counts)
	inst.track.keepOrg(orgID, oc)
}

// orgJob holds what one organization's counts share: its project ids, which
// both the project and the application counts need, and the answers that
// several counts read.
type orgJob struct {
	r    *scrapeRun
	inst *instanceRun
	sc   scope

	projectsListed bool
	projectIDs     []string
	projectTotal   int64

	login     *policyState
	providers *providerTally
	done      map[string]int64 // per-organization counts, for the sums that reuse them
}

func (j *orgJob) count(resource string) (n int64, err error) {
	n, err = j.countOnce(resource)
	if err == nil {
		if j.done == nil {
			j.done = make(map[string]int64)
		}
		j.done[resource] = n
	}
	return n, err
}

func (j *orgJob) countOnce(resource string) (int64, error) {
	c, ctx, sc := j.r.src.client, j.r.ctx, j.sc
	switch resource {
	case model.ResourceUser:
		return c.countUsers(ctx, sc, sc.orgID, false)
	case model.ResourceUserMachine:
		return c.countUsers(ctx, sc, sc.orgID, true)
	case model.ResourceProject:
		if !j.needsProjectIDs() {
			return c.countProjects(ctx, sc)
		}
		if err := j.listProjects(); err != nil {
			return 0, err
		}
		return j.projectTotal, nil
	case model.ResourceApplication:
		return j.countApplications()
	case model.ResourceAuthorization:
		return c.countUserGrants(ctx, sc)
	case model.ResourceIdentityProvider:
		if !j.r.src.plan.sumsUp(model.ResourceIdentityProviderLDAP) {
			return c.countOrgIdPs(ctx, sc)
		}
		t, err := j.tallyProviders()
		return t.total, err
	case model.ResourceActionV1:
		return c.countActions(ctx, sc)
	case model.ResourceOrganizationEnforceMFA:
		p, err := j.loginPolicy()
		return b2i(p.enforcesMFA), err
	case model.ResourceOrganizationCustomLoginPolicy:
		p, err := j.loginPolicy()
		return b2i(!p.isDefault), err
	case model.ResourceOrganizationVerifiedCustomDomain:
		return c.countVerifiedCustomDomains(ctx, sc, uint32(j.r.src.cfg.PageSize), j.inst.domains)
	}
	return 0, fmt.Errorf("%s has no per-organization count", resource)
}

// share is the organization's part of a summed instance total. A policy
// counts when the organization has its own, as ZITADEL's triggers count
// policy rows: an inherited default has no row of the organization's.
func (j *orgJob) share(resource string) (int64, error) {
	c, ctx, sc := j.r.src.client, j.r.ctx, j.sc
	switch resource {
	case model.ResourceActionV1:
		return j.count(resource)
	case model.ResourceLoginPolicy:
		p, err := j.loginPolicy()
		return b2i(!p.isDefault), err
	case model.ResourceEnforceMFA:
		p, err := j.loginPolicy()
		return b2i(!p.isDefault && p.enforcesMFA), err
	case model.ResourceIdentityProviderLDAP:
		t, err := j.tallyProviders()
		return t.ldap, err
	}
	kind, ok := policyOf[resource]
	if !ok {
		return 0, fmt.Errorf("%s has no per-organization share", resource)
	}
	p, err := c.getOrgPolicy(ctx, sc, kind)
	if kind == policyNotification {
		return b2i(!p.isDefault && p.passwordChange), err
	}
	return b2i(!p.isDefault), err
}

// policyOf maps the policy resources to the policy each counts.
var policyOf = map[string]policyKind{
	model.ResourceLoginPolicy:                policyLogin,
	model.ResourceEnforceMFA:                 policyLogin,
	model.ResourcePasswordComplexityPolicy:   policyPasswordComplexity,
	model.ResourcePasswordExpiryPolicy:       policyPasswordAge,
	model.ResourceLockoutPolicy:              policyLockout,
	model.ResourcePasswordChangeNotification: policyNotification,
}

// loginPolicy reads the organization's login policy once for every count
// that needs it.
func (j *orgJob) loginPolicy() (policyState, error) {
	if j.login != nil {
		return *j.login, nil
	}
	p, err := j.r.src.client.getOrgPolicy(j.r.ctx, j.sc, policyLogin)
	if err != nil {
		return policyState{}, err
	}
	j.login = &p
	return p, nil
}

// tallyProviders lists the organization's own providers once for both the
// identity_provider count and its share of identity_provider_ldap.
func (j *orgJob) tallyProviders() (providerTally, error) {
	if j.providers != nil {
		return *j.providers, nil
	}
	t, err := j.r.src.client.tallyProviders(j.r.ctx, j.sc, uint32(j.r.src.cfg.PageSize))
	if err != nil {
		return providerTally{}, err
	}
	j.providers = &t
	return t, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (j *orgJob) needsProjectIDs() bool {
	for _, r := range j.r.src.plan.org {
		if r == model.ResourceApplication {
			return true
		}
	}
	return false
}

// listProjects pages through the organization's own projects once.
func (j *orgJob) listProjects() error {
	if j.projectsListed {
		return nil
	}
	pageSize := uint32(j.r.src.cfg.PageSize)
	var ids []string
	var totalResult uint64
	for offset := uint64(0); ; {
		page, n, err := j.r.src.client.listProjects(j.r.ctx, j.sc, offset, pageSize)
		if err != nil {
			return err
		}
		if offset == 0 {
			totalResult = n
		}
		ids = append(ids, page...)
		offset += uint64(len(page))
		if len(page) == 0 || offset >= n {
			break
		}
	}
	j.projectsListed, j.projectIDs, j.projectTotal = true, ids, total(totalResult)
	return nil
}

// countApplications sums the applications over the organization's projects:
// no ZITADEL API filters applications by organization.
func (j *orgJob) countApplications() (int64, error) {
	if err := j.listProjects(); err != nil {
		return 0, err
	}
	var sum int64
	for _, id := range j.projectIDs {
		n, err := j.r.src.client.countApps(j.r.ctx, j.sc, id)
		if status.Code(err) == codes.NotFound {
			continue // the project was deleted after it was listed
		}
		if err != nil {
			return 0, fmt.Errorf("project %s: %w", id, err)
		}
		var ok bool
		if sum, ok = addCounts(sum, n); !ok {
			return 0, errSumOverflow
		}
	}
	return sum, nil
}
