package activity

import "time"

// ZITADEL's event types this package reads (ZITADEL v4, see
// internal/repository/oidcsession, samlsession and user in ZITADEL).
const (
	TypeOIDCSessionAdded = "oidc_session.added"
	TypeSAMLSessionAdded = "saml_session.added"
	TypeUserLocked       = "user.locked"
)

// checkTypes maps each check event to its factor and outcome.
var checkTypes = map[string]struct{ factor, outcome string }{
	"user.human.password.check.succeeded":         {FactorPassword, OutcomeSucceeded},
	"user.human.password.check.failed":            {FactorPassword, OutcomeFailed},
	"user.human.mfa.otp.check.succeeded":          {FactorOTPApp, OutcomeSucceeded},
	"user.human.mfa.otp.check.failed":             {FactorOTPApp, OutcomeFailed},
	"user.human.mfa.otp.sms.check.succeeded":      {FactorOTPSMS, OutcomeSucceeded},
	"user.human.mfa.otp.sms.check.failed":         {FactorOTPSMS, OutcomeFailed},
	"user.human.mfa.otp.email.check.succeeded":    {FactorOTPEmail, OutcomeSucceeded},
	"user.human.mfa.otp.email.check.failed":       {FactorOTPEmail, OutcomeFailed},
	"user.human.mfa.recoverycode.check.succeeded": {FactorRecoveryCode, OutcomeSucceeded},
	"user.human.mfa.recoverycode.check.failed":    {FactorRecoveryCode, OutcomeFailed},
}

// Attribute values.
const (
	ProtocolOIDC = "oidc"
	ProtocolSAML = "saml"

	// KindSession is a login of a user through a session (hosted login,
	// Session API); KindMachine a token issued without one (client
	// credentials, JWT profile, token exchange).
	KindSession = "session"
	KindMachine = "machine"

	FactorPassword     = "password"
	FactorOTPApp       = "otp_app"
	FactorOTPSMS       = "otp_sms"
	FactorOTPEmail     = "otp_email"
	FactorRecoveryCode = "recovery_code"

	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"

	UserHuman   = "human"
	UserMachine = "machine"

	ParentInstance     = "instance"
	ParentOrganization = "organization"
)

// EventTypes are the event types to ask ListEvents for (ZITADEL takes at most 30).
func EventTypes() []string {
	types := []string{TypeOIDCSessionAdded, TypeSAMLSessionAdded, TypeUserLocked}
	for t := range checkTypes {
		types = append(types, t)
	}
	return types
}

// AggregateTypes are the aggregates of EventTypes (ZITADEL takes at most 10).
func AggregateTypes() []string { return []string{"oidc_session", "saml_session", "user"} }

// authMethodPasswordless is domain.UserAuthMethodTypePasswordless: a passkey,
// which is a possession and a knowledge or inherence factor in one.
const authMethodPasswordless = 3

// Event is what this package reads of one ZITADEL event. The user id only
// passes through: it is hashed, never kept.
type Event struct {
	AggregateID   string
	AggregateType string
	ResourceOwner string
	Type          string
	Sequence      uint64
	CreatedAt     time.Time

	// From the payload of oidc_session.added and saml_session.added.
	UserID            string
	UserResourceOwner string
	HasSession        bool
	ClientID          string // OIDC
	EntityID          string // SAML
	AuthMethods       []int
}

// Relevant reports whether the event type is one this package counts.
func Relevant(eventType string) bool {
	switch eventType {
	case TypeOIDCSessionAdded, TypeSAMLSessionAdded, TypeUserLocked:
		return true
	}
	_, ok := checkTypes[eventType]
	return ok
}

// multiFactor tells whether a login used more than one factor: two
// different methods, or a passkey.
func multiFactor(methods []int) bool {
	for i, m := range methods {
		if m == authMethodPasswordless {
			return true
		}
		for _, o := range methods[:i] {
			if o != m {
				return true
			}
		}
	}
	return false
}
