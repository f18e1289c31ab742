// Package fakezitadel is a ZITADEL API server for tests, benchmarks and demos:
// the services the receiver's api source calls, over gRPC, answering from a
// generated dataset with ZITADEL's list semantics and authentication.
package fakezitadel

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
)

// Spec sizes a generated dataset. Counts per organization are drawn
// uniformly from 0..Max*, so the same Spec always gives the same dataset.
type Spec struct {
	Seed            uint64
	Instances       int
	OrgsPerInstance int

	MaxUsersPerOrg      int
	MaxProjectsPerOrg   int
	MaxAppsPerProject   int
	MaxGrantsPerOrg     int
	MaxIdPsPerOrg       int
	MaxActionsPerOrg    int
	IAMAdmins           int // per instance
	InstanceIdPs        int // per instance
	Targets             int // per instance
	Executions          int // per instance
	SessionsPerInstance int
	Version             string
}

// DefaultSpec is a small dataset: two instances of a few organizations.
func DefaultSpec() Spec {
	return Spec{
		Seed:                1,
		Instances:           2,
		OrgsPerInstance:     3,
		MaxUsersPerOrg:      20,
		MaxProjectsPerOrg:   3,
		MaxAppsPerProject:   3,
		MaxGrantsPerOrg:     10,
		MaxIdPsPerOrg:       2,
		MaxActionsPerOrg:    2,
		IAMAdmins:           2,
		InstanceIdPs:        2,
		Targets:             3,
		Executions:          2,
		SessionsPerInstance: 12,
		Version:             "v4.3.0",
	}
}

// Dataset is a whole installation. Every count the API can return is
// precomputed, so answering a call costs the same for ten organizations or
// ten thousand.
type Dataset struct {
	Version   string
	Instances []*Instance

	ids idSequence
}

// Instance is one ZITADEL instance.
type Instance struct {
	ID        string
	CreatedAt time.Time
	Domains   []Domain
	Orgs      []*Org

	IAMAdmins  int
	IdPs       int // owned by the instance
	Targets    int
	Executions int
	// SessionExpiries is sorted; the zero time, first, is a session without expiry.
	SessionExpiries []time.Time
	Defaults        Defaults
	LDAPIdPs        int // of the instance's own identity providers

	orgsByID map[string]*Org
	users    int
	machines int
	states   UserStates

	events    []Event
	sequences map[string]uint64 // by aggregate id
	// milestones are the reached ones besides instance creation, by type.
	milestones map[milestonepb.MilestoneType]time.Time
}

// Domain is an instance domain; requests choose an instance with one of them.
type Domain struct {
	Name      string
	Primary   bool
	Generated bool
}

// Org is one organization.
type Org struct {
	ID       string
	Users    int // humans and machines
	Machines int
	Projects []*Project
	Grants   int
	IdPs     int // owned by the organization
	Actions  int
	States   UserStates
	LDAPIdPs int // of the organization's own identity providers
	Policies Policies
	Domains  []OrgDomain

	projectsByID map[string]*Project
}

// Project is one project of an organization.
type Project struct {
	ID   string
	Apps int
}

// epoch keeps generated dates independent of when the dataset is built.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Session expiry dates: far enough from any test run to be stable.
var (
	expiredAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	activeTil = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Generate builds the dataset Spec describes.
func Generate(spec Spec) *Dataset {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x5a17ade1))
	ids := idSequence{next: 200000000000000000 + int64(spec.Seed%1000)*1000000000}
	upTo := func(n int) int {
		if n <= 0 {
			return 0
		}
		return rng.IntN(n + 1)
	}
	ds := &Dataset{Version: spec.Version}
	for i := range spec.Instances {
		in := &Instance{
			ID:         ids.new(),
			CreatedAt:  epoch.Add(time.Duration(i) * 24 * time.Hour),
			IAMAdmins:  spec.IAMAdmins,
			IdPs:       spec.InstanceIdPs,
			Targets:    spec.Targets,
			Executions: spec.Executions,
			orgsByID:   make(map[string]*Org, spec.OrgsPerInstance),
		}
		in.Domains = []Domain{
			{Name: fmt.Sprintf("instance-%d-%s.zitadel.fake", i+1, in.ID[len(in.ID)-6:]), Generated: true},
			{Name: fmt.Sprintf("id%d.example.com", i+1), Primary: true},
		}
		for range spec.OrgsPerInstance {
			org := &Org{ID: ids.new(), projectsByID: map[string]*Project{}}
			org.Users = upTo(spec.MaxUsersPerOrg)
			org.Machines = upTo(org.Users)
			for range upTo(spec.MaxProjectsPerOrg) {
				p := &Project{ID: ids.new(), Apps: upTo(spec.MaxAppsPerProject)}
				org.Projects = append(org.Projects, p)
				org.projectsByID[p.ID] = p
			}
			org.Grants = upTo(spec.MaxGrantsPerOrg)
			org.IdPs = upTo(spec.MaxIdPsPerOrg)
			org.Actions = upTo(spec.MaxActionsPerOrg)
			in.Orgs = append(in.Orgs, org)
			in.orgsByID[org.ID] = org
			in.users += org.Users
			in.machines += org.Machines
		}
		for s := range spec.SessionsPerInstance {
			switch s % 3 {
			case 0:
				in.SessionExpiries = append(in.SessionExpiries, time.Time{})
			case 1:
				in.SessionExpiries = append(in.SessionExpiries, activeTil.Add(time.Duration(s)*time.Hour))
			default:
				in.SessionExpiries = append(in.SessionExpiries, expiredAt.Add(time.Duration(s)*time.Hour))
			}
		}
		sort.Slice(in.SessionExpiries, func(a, b int) bool { return in.SessionExpiries[a].Before(in.SessionExpiries[b]) })
		in.sequences = map[string]uint64{}
		in.record(in.CreatedAt, Event{AggregateID: in.ID, AggregateType: AggregateInstance, ResourceOwner: in.ID, Type: "instance.added"})
		ds.Instances = append(ds.Instances, in)
	}
	generateFeatures(spec, ds)
	ds.ids = ids
	return ds
}

// Org returns an organization of the instance by id.
func (in *Instance) Org(id string) *Org { return in.orgsByID[id] }

// PrimaryDomain is the domain to address the instance with.
func (in *Instance) PrimaryDomain() string {
	for _, d := range in.Domains {
		if d.Primary {
			return d.Name
		}
	}
	return in.Domains[0].Name
}

// Project returns a project of the organization by id.
func (o *Org) Project(id string) *Project { return o.projectsByID[id] }

// Apps is the number of applications over all of the organization's projects.
func (o *Org) Apps() int {
	n := 0
	for _, p := range o.Projects {
		n += p.Apps
	}
	return n
}

// Calls is the number of calls a full scrape of the organization makes with
// the default resources and a page size above its providers and domains: six
// counts, one per project, its login policy, its domains and its four other
// policies.
func (o *Org) Calls() int { return 6 + len(o.Projects) + 1 + 1 + 4 }

// ActiveSessions counts sessions without expiry or expiring after t.
func (in *Instance) ActiveSessions(t time.Time) int {
	return len(in.SessionExpiries) - in.sessionsExpiringBy(t)
}

// sessionsExpiringBy counts the sessions with an expiry at or before t.
func (in *Instance) sessionsExpiringBy(t time.Time) int {
	noExpiry := sort.Search(len(in.SessionExpiries), func(i int) bool { return !in.SessionExpiries[i].IsZero() })
	upTo := sort.Search(len(in.SessionExpiries), func(i int) bool { return in.SessionExpiries[i].After(t) })
	return max(upTo-noExpiry, 0)
}

type idSequence struct{ next int64 }

// new returns ZITADEL-shaped ids: 18 decimal digits, unique in the dataset.
func (s *idSequence) new() string {
	s.next += 7919
	return strconv.FormatInt(s.next, 10)
}
