package activity

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/dchest/siphash"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// hashKeySize is the size of SipHash's key.
const hashKeySize = 16

// Position is where an instance's next read continues: the reader's
// cursor, nil before the first read.
type Position struct {
	Cursor zitadelevent.Cursor
}

// parentKey names one user set: a parent and a user type.
type parentKey struct {
	parentType string
	parentID   string
	userType   string
}

// Instance is the activity kept of one ZITADEL instance.
type Instance struct {
	// Start is when the counters start: the oldest time the first read
	// reached back to.
	Start time.Time
	// Position is where the next read continues.
	Position Position
	// CaughtUp is set once a read reached the newest event: until then the
	// active users are not reported, they would be too few.
	CaughtUp bool

	perOrganization bool
	limits          Limits
	key             []byte // the key of the user hashes; never leaves the state
	k0, k1          uint64 // key, as SipHash takes it
	counters        counters
	users           map[parentKey]*userSet
	orgUserSets     int    // the organizations with sets in users
	buf             []byte // reused by hashID
}

// NewInstance starts the activity of an instance whose counters begin at
// start; perOrganization keeps active users per organization too.
func NewInstance(start time.Time, perOrganization bool) *Instance {
	key := make([]byte, hashKeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return newInstance(start, perOrganization, key)
}

func newInstance(start time.Time, perOrganization bool, key []byte) *Instance {
	return &Instance{
		Start:           start,
		perOrganization: perOrganization,
		key:             key,
		k0:              binary.LittleEndian.Uint64(key),
		k1:              binary.LittleEndian.Uint64(key[8:]),
		counters:        newCounters(),
		users:           map[parentKey]*userSet{},
	}
}

// SetPerOrganization switches the active users per organization on or off;
// off forgets them.
func (in *Instance) SetPerOrganization(on bool) {
	in.perOrganization = on
	if on {
		return
	}
	for k := range in.users {
		if k.parentType == ParentOrganization {
			delete(in.users, k)
		}
	}
	in.orgUserSets = 0
}

// SetLimits bounds the series further events can add; what the counters
// already name stays.
func (in *Instance) SetLimits(l Limits) { in.limits = l }

// hashID is the keyed hash of an id: SipHash-2-4, a pseudo-random function
// of the key, so that without the key a hash cannot be traced back to a user
// id by hashing candidates. It allocates nothing.
func (in *Instance) hashID(id string) uint64 {
	in.buf = append(in.buf[:0], id...)
	return siphash.Hash(in.k0, in.k1, in.buf)
}

// Apply counts one event. Events are de-duplicated by the reader, before.
func (in *Instance) Apply(e *Event) {
	switch e.Type {
	case TypeOIDCSessionAdded, TypeSAMLSessionAdded:
		in.login(e)
	case TypeUserLocked:
		in.counters.lockouts[in.counters.organization(e.ResourceOwner)]++
	default:
		if c, ok := checkTypes[e.Type]; ok {
			org := in.counters.organization(e.ResourceOwner)
			in.counters.checks[CheckKey{Organization: org, Factor: c.factor, Outcome: c.outcome}]++
		}
	}
}

func (in *Instance) login(e *Event) {
	k := LoginKey{
		Protocol: ProtocolOIDC, Application: e.ClientID, Organization: e.UserResourceOwner, Kind: KindMachine,
		MultiFactor: multiFactor(e.AuthMethods),
	}
	if e.Type == TypeSAMLSessionAdded {
		k.Protocol, k.Application = ProtocolSAML, e.EntityID
	}
	if k.Organization == "" {
		k.Organization = e.ResourceOwner
	}
	k.Organization = in.counters.organization(k.Organization)
	k.Application = in.counters.application(k.Organization, k.Application, in.limits.ApplicationsPerOrganization)
	userType := UserMachine
	if e.HasSession {
		k.Kind, userType = KindSession, UserHuman
	}
	in.counters.logins[k]++
	if e.UserID == "" {
		return
	}
	h, m := in.hashID(e.UserID), minuteOf(e.CreatedAt)
	in.userSet(parentKey{ParentInstance, "", userType}).add(h, m)
	if in.perOrganization && k.Organization != "" && k.Organization != Other {
		if s := in.organizationUsers(k.Organization, userType); s != nil {
			s.add(h, m)
		}
	}
}

// organizationUsers is the set of an organization's active users of one
// type, nil once MaxOrganizationsWithActiveUsers organizations have sets.
func (in *Instance) organizationUsers(org, userType string) *userSet {
	k := parentKey{ParentOrganization, org, userType}
	if s, ok := in.users[k]; ok {
		return s
	}
	if _, ok := in.users[parentKey{ParentOrganization, org, otherUserType(userType)}]; !ok {
		if in.orgUserSets >= MaxOrganizationsWithActiveUsers {
			in.counters.reach(Cap{Kind: CapActiveUsers, Limit: MaxOrganizationsWithActiveUsers})
			return nil
		}
		in.orgUserSets++
	}
	return in.userSet(k)
}

// recountOrganizationUsers counts the organizations with sets in users,
// after sets were read or dropped.
func (in *Instance) recountOrganizationUsers() {
	orgs := map[string]struct{}{}
	for k := range in.users {
		if k.parentType == ParentOrganization {
			orgs[k.parentID] = struct{}{}
		}
	}
	in.orgUserSets = len(orgs)
}

func otherUserType(t string) string {
	if t == UserHuman {
		return UserMachine
	}
	return UserHuman
}

func (in *Instance) userSet(k parentKey) *userSet {
	s, ok := in.users[k]
	if !ok {
		s = newUserSet()
		in.users[k] = s
	}
	return s
}

// ActiveUsers is the distinct users of one type with a login in one window.
type ActiveUsers struct {
	ParentType string // ParentInstance or ParentOrganization
	ParentID   string // empty for the instance itself
	UserType   string // UserHuman or UserMachine
	Window     string // 1d, 7d, 30d
	Users      uint64
	Exact      bool
}

// Report is what an instance's activity says at one time.
type Report struct {
	Start    time.Time
	Logins   []Login
	Checks   []Check
	Lockouts []Lockout
	// Active is empty until the first read has caught up.
	Active []ActiveUsers
	// Milestones are those reached, set by the reader.
	Milestones []Milestone
	// Caps are the limits reached since the last report, to be warned of.
	Caps []Cap
}

// Report forgets logins older than the longest window before now and
// returns the counters and the active users at now.
func (in *Instance) Report(now time.Time) Report {
	r := Report{Start: in.Start, Caps: in.counters.caps}
	in.counters.caps = nil
	r.Logins, r.Checks, r.Lockouts = in.counters.report()
	m := minuteOf(now)
	for k, s := range in.users {
		s.expire(m)
		if s.empty() {
			delete(in.users, k)
		}
	}
	in.recountOrganizationUsers()
	if !in.CaughtUp {
		return r
	}
	for _, k := range in.sortedUserKeys() {
		s := in.users[k]
		for _, w := range Windows {
			n, exact := s.count(m, w.Hours)
			r.Active = append(r.Active, ActiveUsers{
				ParentType: k.parentType, ParentID: k.parentID, UserType: k.userType,
				Window: w.Name, Users: n, Exact: exact,
			})
		}
	}
	// Both user types of the instance are always reported, so a type
	// without logins reads 0 rather than vanishing.
	for _, ut := range []string{UserHuman, UserMachine} {
		if _, ok := in.users[parentKey{ParentInstance, "", ut}]; !ok {
			for _, w := range Windows {
				r.Active = append(r.Active, ActiveUsers{ParentType: ParentInstance, UserType: ut, Window: w.Name, Exact: true})
			}
		}
	}
	return r
}

// Milestone is one of ZITADEL's milestones of an instance and when it was
// reached.
type Milestone struct {
	Type      string // instance_created, authentication_succeeded_on_instance, ...
	ReachedAt time.Time
}

// Recorder receives the activity of each instance during a scrape.
type Recorder interface {
	RecordActivity(instanceID string, r Report)
}
