package zitadelapi

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/status"

	instancepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/instance"
	objectv1 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// walk visits every configured instance: discovered through the system API,
// named by host, or the endpoint's own.
func (r *scrapeRun) walk() {
	switch {
	case r.src.cfg.Instances.Discover:
		r.discover()
	case len(r.src.cfg.Instances.Hosts) > 0:
		for _, h := range r.src.cfg.Instances.Hosts {
			r.instanceAt(h)
		}
	default:
		r.instanceAt("")
	}
}

// instanceAt asks the instance that host routes to for its own details.
func (r *scrapeRun) instanceAt(host string) {
	label := "instance at the endpoint"
	if host != "" {
		label = "instance at host " + host
	}
	sc := scope{host: host}
	in, err := r.src.client.getMyInstance(r.ctx, sc)
	if err != nil {
		r.fails.add(label, "", "instance", err)
		return
	}
	r.startInstance(sc, in.GetId(), in.GetDetails(), in.GetVersion(), in.GetDomains())
}

// discover pages through the system API's instances; each one is then
// addressed through one of its domains.
func (r *scrapeRun) discover() {
	pageSize := uint32(r.src.cfg.PageSize)
	seen := make(map[string]bool)
	for offset := uint64(0); ; {
		page, totalResult, err := r.src.client.listInstances(r.ctx, offset, pageSize)
		if err != nil {
			r.fails.add("system API", "", "instances", err)
			return
		}
		for _, in := range page {
			if seen[in.GetId()] {
				continue
			}
			seen[in.GetId()] = true
			host := routingDomain(in.GetDomains())
			if host == "" {
				r.fails.add("instance "+in.GetId(), "", "instance", errors.New("it has no domain to address it with"))
				continue
			}
			r.startInstance(scope{host: host}, in.GetId(), in.GetDetails(), in.GetVersion(), in.GetDomains())
			if err := r.ctx.Err(); err != nil {
				r.fails.add("system API", "", "instances", status.FromContextError(err).Err())
				return
			}
		}
		// ZITADEL's total counts instance-domain rows (COUNT(*) OVER () before
		// DISTINCT), so it overstates the instances; its pages are of distinct
		// instances, and a short one is the last.
		offset += uint64(len(page))
		if len(page) < int(pageSize) || offset >= totalResult {
			return
		}
	}
}

// startInstance records the instance and queues its counts; an instance
// the checks leave out is neither counted nor read.
func (r *scrapeRun) startInstance(sc scope, id string, details *objectv1.ObjectDetails, version string, domains []*instancepb.Domain) {
	in := model.Instance{SystemID: r.src.systemID, Version: version, ID: id, Domains: orderDomains(domains)}
	if ts := details.GetCreationDate(); ts != nil {
		in.CreatedAt = ts.AsTime()
	}
	if !r.recordInstance(in) {
		return
	}
	inst := &instanceRun{
		id: id, label: "instance " + id, sc: sc, domains: in.Domains,
		sums: make(map[string]*instanceSum, len(r.src.plan.sums)),
	}
	for _, res := range r.src.plan.sums {
		inst.sums[res] = new(instanceSum)
	}
	r.instances = append(r.instances, inst)

	ch, track := r.planInstance(inst)
	inst.track = track
	if ch != nil {
		r.countChanged(inst, ch)
		return
	}
	// The enumeration reads the organization total too.
	if !r.submitInstanceCounts(inst, r.src.plan.enumerates()) {
		return
	}
	if r.src.plan.enumerates() {
		r.enumerate(inst)
	}
}

// submitInstanceCounts queues the instance totals and the instance's own
// shares of the sums, and reports false when the scrape ended first.
func (r *scrapeRun) submitInstanceCounts(inst *instanceRun, withoutOrganization bool) bool {
	for _, res := range r.src.plan.instance {
		if res == model.ResourceOrganization && withoutOrganization {
			continue
		}
		if !r.submit(func() { r.countInstanceTotal(inst, res) }) {
			r.stopped(inst)
			return false
		}
	}
	if len(r.src.plan.sums) > 0 && !r.submit(func() { r.countInstanceShares(inst) }) {
		r.stopped(inst)
		return false
	}
	return true
}

func (r *scrapeRun) countInstanceTotal(inst *instanceRun, resource string) {
	if resource == model.ResourceUserByState {
		if counts, out := r.countUserStates(inst, ""); out == counted {
			r.recordUserStates(inst, counts)
		}
		return
	}
	n, outcome := r.count(inst, "", resource, func() (int64, error) { return r.instanceTotal(inst.sc, resource) })
	if outcome == counted {
		r.recordCount(inst, model.ParentInstance, inst.id, resource, n)
	}
}

func (r *scrapeRun) instanceTotal(sc scope, resource string) (int64, error) {
	c, ctx := r.src.client, r.ctx
	switch resource {
	case model.ResourceOrganization:
		return c.countOrganizations(ctx, sc)
	case model.ResourceIAMAdmin:
		return c.countIAMAdmins(ctx, sc)
	case model.ResourceIdentityProvider:
		return c.countInstanceIdPs(ctx, sc)
	case model.ResourceExecution:
		return c.countExecutions(ctx, sc)
	case model.ResourceExecutionTarget:
		return c.countTargets(ctx, sc)
	case model.ResourceSession:
		return c.countActiveSessions(ctx, sc, r.now)
	case model.ResourceUser:
		return c.countUsers(ctx, sc, "", false)
	case model.ResourceUserMachine:
		return c.countUsers(ctx, sc, "", true)
	}
	return 0, fmt.Errorf("%s has no instance-wide count", resource)
}

// stopped notes that the scrape's deadline cut an instance short.
func (r *scrapeRun) stopped(inst *instanceRun) {
	inst.abandonSums()
	r.fails.add(inst.label, "", "scrape", status.FromContextError(r.ctx.Err()).Err())
}

// orderDomains puts the primary domain first and keeps ZITADEL's order otherwise.
func orderDomains(domains []*instancepb.Domain) []string {
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		if d.GetPrimary() {
			out = append(out, d.GetDomain())
		}
	}
	for _, d := range domains {
		if !d.GetPrimary() {
			out = append(out, d.GetDomain())
		}
	}
	return out
}

// routingDomain picks the domain to send as x-zitadel-instance-host.
func routingDomain(domains []*instancepb.Domain) string {
	if ds := orderDomains(domains); len(ds) > 0 {
		return ds[0]
	}
	return ""
}
