package zitadelapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// stateTotals sums the user_by_state points per parent, and per parent and
// type, state.
func stateTotals(rec *recorder) (sums map[string]int64, points map[string]map[string]int64) {
	sums, points = map[string]int64{}, map[string]map[string]int64{}
	for _, c := range rec.counts {
		if c.Resource != model.ResourceUserByState {
			continue
		}
		sums[c.ParentType+"/"+c.ParentID] += c.Amount
		key := c.ParentType + "/" + c.ParentID
		if points[key] == nil {
			points[key] = map[string]int64{}
		}
		points[key][c.UserType+"/"+c.UserState] = c.Amount
	}
	return sums, points
}

func TestUsersByStateAddUpToUsers(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	s := startSource(t, testConfig(srv), model.NewResourceFilter([]string{
		model.ResourceUser, model.ResourceUserMachine, model.ResourceUserByState,
	}))

	rec, err := scrape(t, s)
	require.NoError(t, err)
	in := srv.Dataset().Instances[0]
	sums, points := stateTotals(rec)
	users := rec.countsFor(model.ParentOrganization, model.ResourceUser)
	machines := rec.countsFor(model.ParentOrganization, model.ResourceUserMachine)
	require.Len(t, points, 1+len(in.Orgs), "the instance and every organization")
	for _, o := range in.Orgs {
		key := model.ParentOrganization + "/" + o.ID
		assert.Equal(t, users[o.ID], sums[key], "organization %s: the states add up to user", o.ID)
		assert.Len(t, points[key], 8, "four states, humans and machines apart, zeros included")
		var m int64
		for _, st := range []string{model.UserStateActive, model.UserStateInactive, model.UserStateLocked, model.UserStateInitial} {
			m += points[key][model.UserTypeMachine+"/"+st]
		}
		assert.Equal(t, machines[o.ID], m, "organization %s: the machines' states add up to user_machine", o.ID)
		assert.Equal(t, int64(o.States.Humans[fakezitadel.StateLocked]), points[key][model.UserTypeHuman+"/"+model.UserStateLocked])
		assert.Equal(t, int64(o.States.Machines[fakezitadel.StateInactive]), points[key][model.UserTypeMachine+"/"+model.UserStateInactive])
	}
	instanceKey := model.ParentInstance + "/" + in.ID
	assert.Equal(t, rec.countsFor(model.ParentInstance, model.ResourceUser)[in.ID], sums[instanceKey])
	assert.Equal(t, int64(8*(1+len(in.Orgs))), srv.Calls(userpb.UserService_ListUsers_FullMethodName)-int64(2*(1+len(in.Orgs))),
		"one call per state and type and parent, besides user and user_machine")
	var inactive int64
	for _, o := range in.Orgs {
		inactive += int64(o.States.Humans[fakezitadel.StateInactive] + o.States.Machines[fakezitadel.StateInactive])
	}
	assert.Positive(t, inactive, "the dataset has users in other states than active")
}

// TestUsersByStateAreOptIn: eight calls per organization are counted only
// when `resources:` names them.
func TestUsersByStateAreOptIn(t *testing.T) {
	assert.NotContains(t, newPlan(nil, true).org, model.ResourceUserByState)
	assert.NotContains(t, newPlan(nil, true).instance, model.ResourceUserByState)
	p := newPlan(model.NewResourceFilter([]string{model.ResourceUserByState}), false)
	assert.Equal(t, []string{model.ResourceUserByState}, p.instance)
	assert.Empty(t, p.org, "without per_organization only the instance's")
}

// TestUsersByStateAllOrNone: a parent whose state counts could not all be
// read gets none, so what is recorded still adds up to user.
func TestUsersByStateAllOrNone(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.MaxConcurrency = 1
	s := startSource(t, cfg, model.NewResourceFilter([]string{model.ResourceUser, model.ResourceUserByState}))
	// One worker: the instance's user count, then its state counts, the
	// fourth of which fails.
	srv.FailCallsAfter(userpb.UserService_ListUsers_FullMethodName, codes.Internal, 1+3, 1)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.ErrorContains(t, err, "user_by_state")
	_, points := stateTotals(rec)
	in := srv.Dataset().Instances[0]
	assert.NotContains(t, points, model.ParentInstance+"/"+in.ID)
	assert.Len(t, points, len(in.Orgs), "every organization's states were counted")
	assert.Equal(t, int64(1+4+len(in.Orgs)*(1+8)), srv.Calls(userpb.UserService_ListUsers_FullMethodName),
		"the instance's remaining state calls were not made")
}
