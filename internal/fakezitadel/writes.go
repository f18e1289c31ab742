package fakezitadel

import (
	"fmt"
	"slices"
	"time"
)

// Writer changes one instance in one write: every event it records shares
// the write's creation date, as in ZITADEL's event store.
type Writer struct {
	ds *Dataset
	in *Instance
	at time.Time
}

// Write applies fn to the instance as one write at time at, while no call
// is being answered, and brings the instance's totals up to date.
func (s *Server) Write(instanceID string, at time.Time, fn func(w *Writer)) {
	s.data.Lock()
	defer s.data.Unlock()
	in := s.instanceByID(instanceID)
	fn(&Writer{ds: s.ds, in: in, at: at})
	in.recount()
}

func (s *Server) instanceByID(id string) *Instance {
	for _, in := range s.ds.Instances {
		if in.ID == id {
			return in
		}
	}
	panic(fmt.Sprintf("fakezitadel: no instance %s", id))
}

// recount works out the instance-wide totals again from the organizations.
func (in *Instance) recount() {
	in.users, in.machines, in.states = 0, 0, UserStates{}
	for _, o := range in.Orgs {
		in.users += o.Users
		in.machines += o.Machines
		in.states.add(o.States)
	}
}

// Instance is the instance being written.
func (w *Writer) Instance() *Instance { return w.in }

func (w *Writer) event(aggregateType, aggregateID, owner, eventType string) {
	w.in.record(w.at, Event{AggregateID: aggregateID, AggregateType: aggregateType, ResourceOwner: owner, Type: eventType})
}

func (w *Writer) orgEvent(o *Org, eventType string) { w.event(AggregateOrg, o.ID, o.ID, eventType) }

// AddOrg adds an organization with its generated verified domain and no
// users, projects or policies of its own.
func (w *Writer) AddOrg() *Org {
	o := &Org{ID: w.ds.ids.new(), projectsByID: map[string]*Project{}}
	o.Domains = []OrgDomain{{Name: fmt.Sprintf("org-%s.%s", o.ID, w.in.Domains[0].Name), Verified: true, Primary: true}}
	w.in.Orgs = append(w.in.Orgs, o)
	w.in.orgsByID[o.ID] = o
	w.orgEvent(o, "org.added")
	w.orgEvent(o, "org.domain.added")
	w.orgEvent(o, "org.domain.verified")
	w.orgEvent(o, "org.domain.primary.set")
	return o
}

// RemoveOrg removes an organization and, with it, everything it owns.
func (w *Writer) RemoveOrg(o *Org) {
	w.in.Orgs = slices.DeleteFunc(w.in.Orgs, func(x *Org) bool { return x == o })
	delete(w.in.orgsByID, o.ID)
	w.orgEvent(o, "org.removed")
}

// AddUser adds a user in a state.
func (w *Writer) AddUser(o *Org, machine bool, st UserState) {
	o.Users++
	kind := "human"
	if machine {
		o.Machines++
		o.States.Machines[st]++
		kind = "machine"
	} else {
		o.States.Humans[st]++
	}
	w.event(AggregateUser, w.ds.ids.new(), o.ID, "user."+kind+".added")
}

// RemoveUser removes a user of a type in a state, if the organization has one.
func (w *Writer) RemoveUser(o *Org, machine bool, st UserState) bool {
	counts := &o.States.Humans
	if machine {
		counts = &o.States.Machines
	}
	if counts[st] == 0 {
		return false
	}
	counts[st]--
	o.Users--
	if machine {
		o.Machines--
	}
	w.event(AggregateUser, w.ds.ids.new(), o.ID, "user.removed")
	return true
}

// ChangeUserState moves a user of a type from one state to another.
func (w *Writer) ChangeUserState(o *Org, machine bool, from, to UserState) bool {
	counts := &o.States.Humans
	if machine {
		counts = &o.States.Machines
	}
	if counts[from] == 0 || from == to {
		return false
	}
	counts[from]--
	counts[to]++
	w.event(AggregateUser, w.ds.ids.new(), o.ID, "user.state.changed")
	return true
}

// AddProject adds a project with apps applications.
func (w *Writer) AddProject(o *Org, apps int) {
	p := &Project{ID: w.ds.ids.new(), Apps: apps}
	o.Projects = append(o.Projects, p)
	o.projectsByID[p.ID] = p
	w.event(AggregateProject, p.ID, o.ID, "project.added")
	for range apps {
		w.event(AggregateProject, p.ID, o.ID, "project.application.added")
	}
}

// RemoveProject removes the organization's first project, if any.
func (w *Writer) RemoveProject(o *Org) {
	if len(o.Projects) == 0 {
		return
	}
	p := o.Projects[0]
	o.Projects = o.Projects[1:]
	delete(o.projectsByID, p.ID)
	w.event(AggregateProject, p.ID, o.ID, "project.removed")
}

// SetGrants changes the organization's user grants to n.
func (w *Writer) SetGrants(o *Org, n int) {
	o.Grants = n
	w.event(AggregateUserGrant, w.ds.ids.new(), o.ID, "user.grant.added")
}

// SetActions changes the organization's v1 actions to n.
func (w *Writer) SetActions(o *Org, n int) {
	o.Actions = n
	w.event(AggregateAction, w.ds.ids.new(), o.ID, "action.added")
}

// SetIdPs changes the organization's own providers, ldap of them LDAP.
func (w *Writer) SetIdPs(o *Org, n, ldap int) {
	o.IdPs, o.LDAPIdPs = n, min(ldap, n)
	w.orgEvent(o, "org.idp.config.added")
}

// SetLoginPolicy gives the organization a login policy of its own, or with
// nil removes it so the default applies again.
func (w *Writer) SetLoginPolicy(o *Org, p *LoginPolicy) {
	switch {
	case p == nil:
		w.orgEvent(o, "org.policy.login.removed")
	case o.Policies.Login == nil:
		w.orgEvent(o, "org.policy.login.added")
	default:
		w.orgEvent(o, "org.policy.login.changed")
	}
	o.Policies.Login = p
}

// SetOwnPolicies sets which of the password, lockout and notification
// policies the organization has of its own.
func (w *Writer) SetOwnPolicies(o *Org, complexity, age, lockout bool, notification *bool) {
	o.Policies.PasswordComplexity, o.Policies.PasswordAge, o.Policies.Lockout = complexity, age, lockout
	o.Policies.Notification = notification
	w.orgEvent(o, "org.policy.password.complexity.added")
	w.orgEvent(o, "org.policy.notification.changed")
}

// AddDomain adds a custom domain, verified or not.
func (w *Writer) AddDomain(o *Org, verified bool) {
	o.Domains = append(o.Domains, OrgDomain{Name: fmt.Sprintf("d%s.org-%s.example.net", w.ds.ids.new(), o.ID)})
	w.orgEvent(o, "org.domain.added")
	if verified {
		o.Domains[len(o.Domains)-1].Verified = true
		w.orgEvent(o, "org.domain.verified")
	}
}

// SetDefaults changes the instance's default login and notification policies.
func (w *Writer) SetDefaults(d Defaults) {
	w.in.Defaults = d
	w.event(AggregateInstance, w.in.ID, w.in.ID, "instance.policy.login.changed")
	w.event(AggregateInstance, w.in.ID, w.in.ID, "instance.policy.notification.changed")
}

// SetInstanceResources changes what the instance itself holds.
func (w *Writer) SetInstanceResources(admins, idps, ldap, executions int) {
	w.in.IAMAdmins, w.in.IdPs, w.in.LDAPIdPs, w.in.Executions = admins, idps, min(ldap, idps), executions
	w.event(AggregateInstance, w.in.ID, w.in.ID, "instance.member.added")
	w.event(AggregateExecution, w.ds.ids.new(), w.in.ID, "execution.set")
}
