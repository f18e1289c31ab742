package activity

import (
	"cmp"
	"slices"
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

// counters are the cumulative counts of an instance since its start time.
type counters struct {
	logins   map[LoginKey]uint64
	checks   map[CheckKey]uint64
	lockouts map[string]uint64 // by organization
}

func newCounters() counters {
	return counters{logins: map[LoginKey]uint64{}, checks: map[CheckKey]uint64{}, lockouts: map[string]uint64{}}
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
