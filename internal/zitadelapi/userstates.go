package zitadelapi

import (
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// userStateKey is one of the user_by_state counts.
type userStateKey struct {
	state, userType string
	filter          userFilter
}

// userStateKeys are the states a listed user can be in, humans and machines
// apart. DELETED is left out: ZITADEL removes a deleted user from the
// projection the list reads, so every listed user is in exactly one of these
// and their sum is the user count.
var userStateKeys = func() []userStateKey {
	states := []struct {
		name string
		pb   userpb.UserState
	}{
		{model.UserStateActive, userpb.UserState_USER_STATE_ACTIVE},
		{model.UserStateInactive, userpb.UserState_USER_STATE_INACTIVE},
		{model.UserStateLocked, userpb.UserState_USER_STATE_LOCKED},
		{model.UserStateInitial, userpb.UserState_USER_STATE_INITIAL},
	}
	types := []struct {
		name string
		pb   userpb.Type
	}{
		{model.UserTypeHuman, userpb.Type_TYPE_HUMAN},
		{model.UserTypeMachine, userpb.Type_TYPE_MACHINE},
	}
	var keys []userStateKey
	for _, t := range types {
		for _, s := range states {
			keys = append(keys, userStateKey{state: s.name, userType: t.name, filter: userFilter{userType: t.pb, state: s.pb}})
		}
	}
	return keys
}()

// userStateCount is one counted user_by_state point.
type userStateCount struct {
	key userStateKey
	n   int64
}

// countUserStates makes one call per state and type under a parent
// (orgID empty: the whole instance). It returns every count or none, so that
// what is recorded always adds up to the parent's users; a failure stops the
// remaining calls and is reported once.
func (r *scrapeRun) countUserStates(inst *instanceRun, orgID string) ([]userStateCount, outcome) {
	out := make([]userStateCount, 0, len(userStateKeys))
	sc := scope{host: inst.sc.host, orgID: orgID}
	for i, k := range userStateKeys {
		f := k.filter
		f.orgID = orgID
		n, res := r.count(inst, orgID, model.ResourceUserByState, func() (int64, error) {
			return r.src.client.countUsersWhere(r.ctx, sc, f)
		})
		if res != counted {
			if res == failed {
				r.fails.skip(len(userStateKeys) - 1 - i)
			}
			return nil, res
		}
		out = append(out, userStateCount{k, n})
	}
	return out, counted
}

func (r *scrapeRun) recordUserStates(inst *instanceRun, counts []userStateCount) {
	out := make([]model.Count, 0, len(counts))
	for _, c := range counts {
		out = append(out, model.Count{
			InstanceID: inst.id, ParentType: model.ParentInstance, ParentID: inst.id, Resource: model.ResourceUserByState,
			Amount: c.n, UserState: c.key.state, UserType: c.key.userType,
		})
	}
	r.recordCounts(out)
	for _, c := range out {
		inst.track.keepTotal(c)
	}
}
