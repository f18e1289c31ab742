package activity

import (
	"cmp"
	"slices"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
)

// LoginKey is one series of the login counter.
type LoginKey struct {
	Protocol     string // ProtocolOIDC or ProtocolSAML
	Application  string // the OIDC client id or the SAML entity id
	Organization string // the user's organization
	Kind         string // KindSession or KindMachine
	MultiFactor  bool
}

// CheckKey is one series of the check counter. Failed checks name no
// application in ZITADEL, so none does here.
type CheckKey struct {
	Organization string
	Factor       string
	Outcome      string
}

// Other stands for the applications of an organization beyond
// Limits.ApplicationsPerOrganization, and for the organizations beyond
// MaxOrganizations or with an id that is not ZITADEL's: their events are
// counted, under this name, instead of each making a series of its own.
const Other = "other"

// MaxOrganizations bounds the organizations an instance's counters name:
// events name organizations, so a broken or hostile ZITADEL could otherwise
// grow the series and the state without limit.
const MaxOrganizations = 20_000

// MaxApplications bounds the applications the login counter names in one
// instance, counted per organization of the users (one application used
// by users of 1,000 organizations counts 1,000): with MaxOrganizations and
// the per-organization limit alone, a hostile ZITADEL could name millions.
const MaxApplications = 100_000

// MaxOrganizationsWithActiveUsers bounds the organizations whose active
// users are counted apart (active_users_per_organization): each keeps sets
// of user hashes, and past ExactLimit users sketches.
const MaxOrganizationsWithActiveUsers = 2_000

// DefaultApplicationsPerOrganization bounds the login counter's
// applications per organization unless Limits say otherwise: far more than
// an organization has, far fewer than a stream of made-up client ids adds.
const DefaultApplicationsPerOrganization = 100

// Limits bound the series that events can add to an instance's counters.
type Limits struct {
	// ApplicationsPerOrganization is how many distinct applications the
	// login counter names per organization; the logins of further ones are
	// counted as application Other. 0 is DefaultApplicationsPerOrganization.
	ApplicationsPerOrganization int
}

// Cap is a limit the counters reached, of Kind; Organization names the
// organization of a CapApplicationsPerOrganization.
type Cap struct {
	Kind         CapKind
	Organization string
	Limit        int
}

// CapKind is which limit a Cap is.
type CapKind int

const (
	// CapApplicationsPerOrganization: the logins of further applications
	// of the organization are counted as application Other.
	CapApplicationsPerOrganization CapKind = iota
	// CapOrganizations: the events of further organizations are counted as
	// organization Other.
	CapOrganizations
	// CapApplications: the logins of further applications of the instance
	// are counted as application Other.
	CapApplications
	// CapActiveUsers: the active users of further organizations are counted
	// in the instance's only.
	CapActiveUsers
)

// counters are the cumulative counts of an instance since its start time.
type counters struct {
	logins   map[LoginKey]uint64
	checks   map[CheckKey]uint64
	lockouts map[string]uint64 // by organization

	// orgs is what the counters name, for the limits: every organization
	// (Other and "" included) and its applications, derived from the keys.
	orgs map[string]map[string]struct{}
	// apps counts the applications orgs names, Other aside.
	apps int
	// reached are the limits reached in this process; fresh ones wait in
	// caps for the next report.
	reached map[Cap]bool
	caps    []Cap
}

func newCounters() counters {
	return counters{
		logins: map[LoginKey]uint64{}, checks: map[CheckKey]uint64{}, lockouts: map[string]uint64{},
		orgs: map[string]map[string]struct{}{}, reached: map[Cap]bool{},
	}
}

// reach notes that a limit was reached, once.
func (c *counters) reach(cp Cap) {
	if !c.reached[cp] {
		c.reached[cp] = true
		c.caps = append(c.caps, cp)
	}
}

// organization returns the name the counters give org: org itself, or
// Other when it is not an id ZITADEL issues or MaxOrganizations are named.
func (c *counters) organization(org string) string {
	if _, ok := c.orgs[org]; ok || org == "" || org == Other {
		return org
	}
	if fieldshape.CheckID(org, fieldshape.MaxIDBytes) != "" {
		return Other
	}
	named := len(c.orgs)
	for _, special := range []string{"", Other} {
		if _, ok := c.orgs[special]; ok {
			named--
		}
	}
	if named >= MaxOrganizations {
		c.reach(Cap{Kind: CapOrganizations, Limit: MaxOrganizations})
		return Other
	}
	c.orgs[org] = map[string]struct{}{}
	return org
}

// application returns the name the counters give app in org (as
// organization returned it): app itself, or Other beyond the limit or when
// it is no application id.
func (c *counters) application(org, app string, limit int) string {
	apps := c.named(org)
	if _, ok := apps[app]; ok || app == Other {
		return app
	}
	if fieldshape.CheckApplicationID(app) != "" {
		return Other
	}
	named := len(apps)
	if _, ok := apps[Other]; ok {
		named--
	}
	if limit <= 0 {
		limit = DefaultApplicationsPerOrganization
	}
	if named >= limit {
		c.reach(Cap{Organization: org, Limit: limit})
		return Other
	}
	if c.apps >= MaxApplications {
		c.reach(Cap{Kind: CapApplications, Limit: MaxApplications})
		return Other
	}
	apps[app] = struct{}{}
	c.apps++
	return app
}

// reindex derives what the counters name from their keys, after decoding.
func (c *counters) reindex() {
	for k := range c.logins {
		apps := c.named(k.Organization)
		if _, ok := apps[k.Application]; !ok && k.Application != Other {
			c.apps++
		}
		apps[k.Application] = struct{}{}
	}
	for k := range c.checks {
		c.named(k.Organization)
	}
	for org := range c.lockouts {
		c.named(org)
	}
}

func (c *counters) named(org string) map[string]struct{} {
	apps := c.orgs[org]
	if apps == nil {
		apps = map[string]struct{}{}
		c.orgs[org] = apps
	}
	return apps
}

// Login is one series of the login counter and its count.
type Login struct {
	LoginKey
	Count uint64
}

// Check is one series of the check counter and its count.
type Check struct {
	CheckKey
	Count uint64
}

// Lockout is the lockouts of one organization.
type Lockout struct {
	Organization string
	Count        uint64
}

func (c *counters) report() ([]Login, []Check, []Lockout) {
	logins := make([]Login, 0, len(c.logins))
	for k, n := range c.logins {
		logins = append(logins, Login{k, n})
	}
	slices.SortFunc(logins, func(a, b Login) int {
		return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Application, b.Application),
			cmp.Compare(a.Organization, b.Organization), cmp.Compare(a.Kind, b.Kind), boolCompare(a.MultiFactor, b.MultiFactor))
	})
	checks := make([]Check, 0, len(c.checks))
	for k, n := range c.checks {
		checks = append(checks, Check{k, n})
	}
	slices.SortFunc(checks, func(a, b Check) int {
		return cmp.Or(cmp.Compare(a.Organization, b.Organization), cmp.Compare(a.Factor, b.Factor), cmp.Compare(a.Outcome, b.Outcome))
	})
	lockouts := make([]Lockout, 0, len(c.lockouts))
	for org, n := range c.lockouts {
		lockouts = append(lockouts, Lockout{org, n})
	}
	slices.SortFunc(lockouts, func(a, b Lockout) int { return cmp.Compare(a.Organization, b.Organization) })
	return logins, checks, lockouts
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
