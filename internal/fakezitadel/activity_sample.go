package fakezitadel

import (
	"fmt"
	"time"
)

// The applications of SampleActivity's logins.
const (
	SampleWebClient  = "web-client"                      // OIDC, users with a session
	SampleAPIClient  = "api-client"                      // OIDC, a machine grant without a session
	SampleSAMLEntity = "https://sp.example.com/metadata" // SAML
)

// SampleActivity is what WriteSampleActivity wrote into one instance: what
// a reader of its events is to count.
type SampleActivity struct {
	// Logins by application: OIDC client id or SAML entity id.
	Logins map[string]int
	// HumansActive and MachinesActive are the distinct users with a login
	// within 1, 7 and 30 days before now.
	HumansActive, MachinesActive [3]int
	// PasswordChecks by outcome, of the whole instance.
	PasswordSucceeded, PasswordFailed int
	OTPSMSFailed                      int
	Lockouts                          int
	// FailedOrg is the organization of every failed check and lockout.
	FailedOrg string
	// FirstAuthentication is when the instance's first login with a session
	// was written: the milestones of authentication are reached then.
	FirstAuthentication time.Time
}

// WriteSampleActivity writes a month of logins, failed checks and a lockout
// into an instance of at least two organizations, relative to now: humans
// through OIDC with a password (one of them twice), through SAML with an
// identity provider and with a password and OTP, and a machine's JWT-profile
// grant; then a user's failed password and SMS checks ending in a lockout.
func (s *Server) WriteSampleActivity(instanceID string, now time.Time) SampleActivity {
	s.data.Lock()
	orgs := s.instanceByID(instanceID).Orgs
	s.data.Unlock()
	if len(orgs) < 2 {
		panic("fakezitadel: WriteSampleActivity needs two organizations")
	}
	first, second := orgs[0], orgs[1]
	sa := SampleActivity{Logins: map[string]int{}, FailedOrg: second.ID}
	login := func(ago time.Duration, l Login) {
		s.Write(instanceID, now.Add(-ago), func(w *Writer) { w.Login(l) })
		sa.Logins[l.ClientID+l.EntityID]++
		for _, m := range l.AuthMethods {
			if m == AuthPassword && !l.Machine {
				sa.PasswordSucceeded++
			}
		}
	}
	user := func(i int) string { return fmt.Sprintf("%s-human-%d", instanceID, i) }

	// Two users 20 days ago, with a password and an authenticator app.
	for i := range 2 {
		login(20*24*time.Hour, Login{UserID: user(6 + i), Org: first, ClientID: SampleWebClient, AuthMethods: []int{AuthPassword, AuthTOTP}})
	}
	sa.FirstAuthentication = now.Add(-20 * 24 * time.Hour)
	// Two users 3 days ago, through SAML and an identity provider.
	for i := range 2 {
		login(3*24*time.Hour, Login{UserID: user(4 + i), Org: second, EntityID: SampleSAMLEntity, AuthMethods: []int{AuthIdP}})
	}
	// Three users in the last hours, one of them twice.
	login(2*time.Hour, Login{UserID: user(1), Org: first, ClientID: SampleWebClient, AuthMethods: []int{AuthPassword}})
	for i := range 3 {
		login(time.Hour, Login{UserID: user(1 + i), Org: first, ClientID: SampleWebClient, AuthMethods: []int{AuthPassword}})
	}
	// A machine user's JWT-profile grant, without a session.
	login(time.Hour, Login{
		UserID: instanceID + "-machine-1", Org: second, ClientID: SampleAPIClient, Machine: true,
		AuthMethods: []int{AuthPrivateKey},
	})
	sa.HumansActive = [3]int{3, 5, 7}
	sa.MachinesActive = [3]int{1, 1, 1}

	// A user mistypes the password three times and an SMS code once, and is locked.
	s.Write(instanceID, now.Add(-30*time.Minute), func(w *Writer) {
		for range 3 {
			w.CheckPassword(second, user(9), false)
		}
		w.Check(second, user(9), "user.human.mfa.otp.sms.check.failed")
		w.Lock(second, user(9))
	})
	sa.PasswordFailed, sa.OTPSMSFailed, sa.Lockouts = 3, 1, 1
	return sa
}

// FailPasswordChecks writes n failed password checks of distinct users of
// an organization at time at, and lockouts of the first locks of them: a
// credential-stuffing attack as ZITADEL records it.
func (s *Server) FailPasswordChecks(instanceID string, o *Org, at time.Time, n, locks int) {
	s.Write(instanceID, at, func(w *Writer) {
		for i := range n {
			userID := fmt.Sprintf("%s-target-%d", o.ID, i)
			w.CheckPassword(o, userID, false)
			if i < locks {
				w.Lock(o, userID)
			}
		}
	})
}
