package activity

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loginOf(org, client string, at time.Time) *Event {
	return &Event{
		Type: TypeOIDCSessionAdded, ResourceOwner: org, UserResourceOwner: org, ClientID: client,
		HasSession: true, UserID: "u-" + client, CreatedAt: at,
	}
}

func loginCounts(r Report) (series map[LoginKey]uint64, total uint64) {
	series = map[LoginKey]uint64{}
	for _, l := range r.Logins {
		series[l.LoginKey] = l.Count
		total += l.Count
	}
	return series, total
}

// TestLoginsOfMadeUpApplicationsAreBounded: 60,000 logins, each with a new
// client id, in one organization make at most the limit's series and one
// "other"; every login is still counted, the cap is reported once, and a
// state read back from storage keeps to it.
func TestLoginsOfMadeUpApplicationsAreBounded(t *testing.T) {
	const limit, logins = 100, 60_000
	now := time.Now()
	in := NewInstance(now.Add(-time.Hour), true)
	in.SetLimits(Limits{ApplicationsPerOrganization: limit})
	for i := range logins {
		in.Apply(loginOf("o1", fmt.Sprintf("%d@app", i), now))
	}
	r := in.Report(now)
	series, total := loginCounts(r)
	assert.Len(t, series, limit+1)
	assert.Equal(t, uint64(logins), total, "every login is counted")
	assert.Equal(t, uint64(logins-limit), series[LoginKey{Protocol: ProtocolOIDC, Application: Other, Organization: "o1", Kind: KindSession}])
	assert.Equal(t, []Cap{{Organization: "o1", Limit: limit}}, r.Caps)
	assert.Empty(t, in.Report(now).Caps, "reported once")

	back, err := Unmarshal(in.Marshal())
	require.NoError(t, err)
	back.SetLimits(Limits{ApplicationsPerOrganization: limit})
	back.Apply(loginOf("o1", "new@app", now))
	series, _ = loginCounts(back.Report(now))
	assert.Len(t, series, limit+1, "the state read back holds to the limit")
}

// TestEventsNameBoundedOrganizations: organizations beyond MaxOrganizations,
// and organization or application ids that are not ZITADEL's, are counted as
// "other" instead of making series and state of their own.
func TestEventsNameBoundedOrganizations(t *testing.T) {
	now := time.Now()
	in := NewInstance(now.Add(-time.Hour), true)
	in.SetLimits(Limits{ApplicationsPerOrganization: 10})
	for i := range MaxOrganizations + 50 {
		in.Apply(loginOf(fmt.Sprint("org", i), "app", now))
		in.Apply(&Event{Type: TypeUserLocked, ResourceOwner: fmt.Sprint("org", i)})
	}
	in.Apply(loginOf("jane.doe@example.com x", "app", now))
	in.Apply(loginOf("org1", "jane doe", now))
	r := in.Report(now)
	series, total := loginCounts(r)
	assert.Equal(t, uint64(MaxOrganizations+52), total)
	assert.Len(t, series, MaxOrganizations+2, "the named organizations, other, and org1's other")
	assert.Equal(t, uint64(51), series[LoginKey{Protocol: ProtocolOIDC, Application: "app", Organization: Other, Kind: KindSession}])
	assert.Equal(t, uint64(1), series[LoginKey{Protocol: ProtocolOIDC, Application: Other, Organization: "org1", Kind: KindSession}])
	assert.Len(t, r.Lockouts, MaxOrganizations+1)
	assert.ElementsMatch(t, []Cap{
		{Kind: CapOrganizations, Limit: MaxOrganizations},
		{Kind: CapActiveUsers, Limit: MaxOrganizationsWithActiveUsers},
	}, r.Caps)
	for _, a := range r.Active {
		assert.NotEqual(t, Other, a.ParentID, "no active users of a made-up organization")
	}
}

// The receiver's README states the organizations' limit.
func TestREADMEStatesTheOrganizationsLimit(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	thousands := func(n int) string { return fmt.Sprintf("%d,%03d", n/1000, n%1000) }
	assert.Contains(t, string(readme), thousands(MaxOrganizations)+" organizations per instance")
	assert.Contains(t, string(readme), thousands(MaxApplications)+" applications per instance")
	assert.Contains(t, string(readme), "at most "+thousands(MaxOrganizationsWithActiveUsers)+" organizations")
}

// TestInstanceBoundsItsApplicationsAndOrganizationUsers: however the
// events spread over organizations, an instance names at most
// MaxApplications applications and keeps active users apart for at most
// MaxOrganizationsWithActiveUsers organizations; every login is counted.
func TestInstanceBoundsItsApplicationsAndOrganizationUsers(t *testing.T) {
	now := time.Now()
	in := NewInstance(now.Add(-time.Hour), true)
	orgs, appsPerOrg := 2*MaxOrganizationsWithActiveUsers, MaxApplications/MaxOrganizationsWithActiveUsers
	for o := range orgs {
		for a := range appsPerOrg {
			e := loginOf(fmt.Sprint("org", o), fmt.Sprint("app", a), now)
			e.UserID = fmt.Sprint("user", o)
			in.Apply(e)
		}
	}
	in.CaughtUp = true
	r := in.Report(now)
	series, total := loginCounts(r)
	assert.Equal(t, uint64(orgs*appsPerOrg), total, "every login counted")
	named := 0
	for k := range series {
		if k.Application != Other {
			named++
		}
	}
	assert.Equal(t, MaxApplications, named)
	withUsers := map[string]bool{}
	for _, a := range r.Active {
		if a.ParentType == ParentOrganization {
			withUsers[a.ParentID] = true
		}
	}
	assert.Len(t, withUsers, MaxOrganizationsWithActiveUsers)
	assert.ElementsMatch(t, []Cap{
		{Kind: CapApplications, Limit: MaxApplications},
		{Kind: CapActiveUsers, Limit: MaxOrganizationsWithActiveUsers},
	}, r.Caps)

	// Read back, the state holds to the same bounds.
	back, err := Unmarshal(in.Marshal())
	require.NoError(t, err)
	back.Apply(loginOf("org-new", "app-new", now))
	series, _ = loginCounts(back.Report(now))
	assert.Equal(t, uint64(1), series[LoginKey{Protocol: ProtocolOIDC, Application: Other, Organization: "org-new", Kind: KindSession}])
}
