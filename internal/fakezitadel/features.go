package fakezitadel

import (
	"fmt"
	"math/rand/v2"

	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

// UserState indexes users by ZITADEL's user.v2 UserState, without DELETED:
// a removed user leaves the projection the lists read.
type UserState int

// The states a listed user can be in, in ZITADEL's enum order.
const (
	StateActive UserState = iota
	StateInactive
	StateLocked
	StateInitial
	userStates
)

// UserStates counts users per state, humans and machines apart.
type UserStates struct {
	Humans, Machines [userStates]int
}

// stateOf maps ZITADEL's enum to the index; DELETED and UNSPECIFIED have none.
var stateOf = map[userpb.UserState]UserState{
	userpb.UserState_USER_STATE_ACTIVE:   StateActive,
	userpb.UserState_USER_STATE_INACTIVE: StateInactive,
	userpb.UserState_USER_STATE_LOCKED:   StateLocked,
	userpb.UserState_USER_STATE_INITIAL:  StateInitial,
}

// in returns all users and the machines in one state: none for a state no
// listed user has.
func (u UserStates) in(st userpb.UserState) (all, machines int) {
	s, ok := stateOf[st]
	if !ok {
		return 0, 0
	}
	return u.Humans[s] + u.Machines[s], u.Machines[s]
}

func (u *UserStates) add(o UserStates) {
	for s := range userStates {
		u.Humans[s] += o.Humans[s]
		u.Machines[s] += o.Machines[s]
	}
}

// LoginPolicy is the part of a login policy the counts read.
type LoginPolicy struct {
	ForceMFA          bool
	ForceMFALocalOnly bool
}

// EnforcesMFA is ZITADEL's enforce_mfa condition.
func (p LoginPolicy) EnforcesMFA() bool { return p.ForceMFA || p.ForceMFALocalOnly }

// Defaults are an instance's default policies, which every organization
// without its own inherits. ZITADEL's setup writes all of them for every
// instance.
type Defaults struct {
	Login                      LoginPolicy
	PasswordChangeNotification bool
}

// Policies are the policies an organization has of its own; nil or false
// means it inherits the instance default.
type Policies struct {
	Login              *LoginPolicy
	PasswordComplexity bool
	PasswordAge        bool
	Lockout            bool
	// Notification is the organization's own notification policy's
	// password_change switch.
	Notification *bool
}

// OrgDomain is one domain of an organization.
type OrgDomain struct {
	Name     string
	Verified bool
	Primary  bool
}

// generateFeatures fills what the feature-usage counts read. It draws from its
// own generator, so the counts the older fields give stay what they were.
func generateFeatures(spec Spec, ds *Dataset) {
	rng := rand.New(rand.NewPCG(spec.Seed^0xfea7, spec.Seed+0x0d0e))
	chance := func(n int) bool { return rng.IntN(n) == 0 }
	for _, in := range ds.Instances {
		in.Defaults = Defaults{Login: LoginPolicy{ForceMFA: chance(2)}, PasswordChangeNotification: !chance(4)}
		in.LDAPIdPs = rng.IntN(in.IdPs + 1)
		generated := in.Domains[0].Name
		for _, o := range in.Orgs {
			o.States = drawStates(rng, o.Users-o.Machines, o.Machines)
			in.states.add(o.States)
			o.LDAPIdPs = rng.IntN(o.IdPs + 1)
			if chance(3) {
				o.Policies.Login = &LoginPolicy{ForceMFA: chance(2), ForceMFALocalOnly: chance(4)}
			}
			o.Policies.PasswordComplexity = chance(3)
			o.Policies.PasswordAge = chance(4)
			o.Policies.Lockout = chance(4)
			if chance(3) {
				pc := chance(2)
				o.Policies.Notification = &pc
			}
			// ZITADEL gives every organization a verified primary domain under
			// an instance domain; custom ones are verified or not.
			o.Domains = []OrgDomain{{Name: fmt.Sprintf("org-%s.%s", o.ID, generated), Verified: true, Primary: true}}
			for k := range rng.IntN(4) {
				o.Domains = append(o.Domains, OrgDomain{Name: fmt.Sprintf("login%d.org-%s.example.net", k, o.ID), Verified: chance(2)})
			}
		}
	}
}

// drawStates spreads users over the states, most of them active.
func drawStates(rng *rand.Rand, humans, machines int) UserStates {
	var u UserStates
	draw := func() UserState {
		r := rng.IntN(10)
		if r < 7 {
			return StateActive
		}
		return UserState(r - 6)
	}
	for range humans {
		u.Humans[draw()]++
	}
	for range machines {
		u.Machines[draw()]++
	}
	return u
}

// Login is the organization's effective login policy: its own or the default.
func (o *Org) Login(in *Instance) (LoginPolicy, bool) {
	if o.Policies.Login != nil {
		return *o.Policies.Login, false
	}
	return in.Defaults.Login, true
}

// PasswordChangeNotification is the organization's effective switch.
func (o *Org) PasswordChangeNotification(in *Instance) (bool, bool) {
	if o.Policies.Notification != nil {
		return *o.Policies.Notification, false
	}
	return in.Defaults.PasswordChangeNotification, true
}

// VerifiedCustomDomains counts the verified domains that are not under one of
// the instance's domains.
func (o *Org) VerifiedCustomDomains(in *Instance) int {
	n := 0
	for _, d := range o.Domains {
		if d.Verified && !in.generatedOrgDomain(d.Name) {
			n++
		}
	}
	return n
}

func (in *Instance) generatedOrgDomain(name string) bool {
	for _, d := range in.Domains {
		if len(name) > len(d.Name) && name[len(name)-len(d.Name)-1:] == "."+d.Name {
			return true
		}
	}
	return false
}

// Features are the instance-wide counts as ZITADEL's triggers keep them: the
// default row plus one per organization with its own policy.
type Features struct {
	LoginPolicies, EnforceMFA, PasswordComplexity, PasswordExpiry, Lockout, PasswordChangeNotification, LDAPIdPs int
}

// Features works out the instance's feature-usage counts.
func (in *Instance) Features() Features {
	f := Features{LoginPolicies: 1, PasswordComplexity: 1, PasswordExpiry: 1, Lockout: 1, LDAPIdPs: in.LDAPIdPs}
	if in.Defaults.Login.EnforcesMFA() {
		f.EnforceMFA++
	}
	if in.Defaults.PasswordChangeNotification {
		f.PasswordChangeNotification++
	}
	for _, o := range in.Orgs {
		p := o.Policies
		if p.Login != nil {
			f.LoginPolicies++
			if p.Login.EnforcesMFA() {
				f.EnforceMFA++
			}
		}
		f.PasswordComplexity += b2i(p.PasswordComplexity)
		f.PasswordExpiry += b2i(p.PasswordAge)
		f.Lockout += b2i(p.Lockout)
		if p.Notification != nil && *p.Notification {
			f.PasswordChangeNotification++
		}
		f.LDAPIdPs += o.LDAPIdPs
	}
	return f
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
