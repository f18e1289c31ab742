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
			inst.actionsIncomplete.Store(true)
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
// have been deleted since it was listed.
func (r *scrapeRun) countOrganization(inst *instanceRun, orgID string) {
	j := &orgJob{r: r, inst: inst, sc: scope{host: inst.sc.host, orgID: orgID}}
	type amount struct {
		resource string
		n        int64
	}
	amounts := make([]amount, 0, len(r.src.plan.org))
	for _, res := range r.src.plan.org {
		n, out := r.count(inst, orgID, res, func() (int64, error) { return j.count(res) })
		switch out {
		case gone:
			return
		case failed:
			if res == model.ResourceActionV1 {
				inst.actionsIncomplete.Store(true)
			}
			continue
		}
		amounts = append(amounts, amount{res, n})
	}
	for _, a := range amounts {
		if a.resource == model.ResourceActionV1 {
			inst.actions.Add(a.n)
		}
		r.recordCount(inst, model.ParentOrganization, orgID, a.resource, a.n)
	}
}

// orgJob holds what one organization's counts share: its project ids, which
// both the project and the application counts need.
type orgJob struct {
	r    *scrapeRun
	inst *instanceRun
	sc   scope

	projectsListed bool
	projectIDs     []string
	projectTotal   int64
}

func (j *orgJob) count(resource string) (int64, error) {
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
		return c.countOrgIdPs(ctx, sc)
	case model.ResourceActionV1:
		return c.countActions(ctx, sc)
	}
	return 0, fmt.Errorf("%s has no per-organization count", resource)
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
		sum += n
	}
	return sum, nil
}
