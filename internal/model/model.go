// Package model holds the plain data that flows from a ZITADEL source to the
// receiver's metric builder. It is deliberately free of pdata and protobuf so
// that the adapters (API client, database reader) stay independent of the
// metric contract, which lives in the root package.
package model

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

// Parent types, as ZITADEL stores them in projections.resource_counts.parent_type.
const (
	ParentInstance     = "instance"
	ParentOrganization = "organization"
)

// Resource names. The first group are ZITADEL's own (internal/serviceping/report.go);
// the others exist only for counts taken through the API.
const (
	ResourceOrganization               = "organization"
	ResourceProject                    = "project"
	ResourceUser                       = "user"
	ResourceUserMachine                = "user_machine"
	ResourceIAMAdmin                   = "iam_admin"
	ResourceIdentityProvider           = "identity_provider"
	ResourceIdentityProviderLDAP       = "identity_provider_ldap"
	ResourceActionV1                   = "action_v1"
	ResourceExecution                  = "execution"
	ResourceExecutionTarget            = "execution_target"
	ResourceLoginPolicy                = "login_policy"
	ResourceEnforceMFA                 = "enforce_mfa"
	ResourcePasswordComplexityPolicy   = "password_complexity_policy"
	ResourcePasswordExpiryPolicy       = "password_expiry_policy"
	ResourceLockoutPolicy              = "lockout_policy"
	ResourcePasswordChangeNotification = "password_change_notification"
	ResourceSCIMProvisionedUser        = "scim_provisioned_user"

	ResourceApplication   = "application"
	ResourceSession       = "session"
	ResourceAuthorization = "authorization"

	// Feature usage of one organization: 1 when its effective login policy
	// (its own or the inherited default) forces MFA, 1 when it has a login
	// policy of its own, and its verified domains outside the instance's.
	ResourceOrganizationEnforceMFA           = "organization_enforce_mfa"
	ResourceOrganizationCustomLoginPolicy    = "organization_custom_login_policy"
	ResourceOrganizationVerifiedCustomDomain = "organization_verified_custom_domain"

	// ResourceUserByState is the users of a parent split by state and type:
	// one count per (UserState, UserType), summing to the parent's `user`.
	ResourceUserByState = "user_by_state"
)

// User states and types of ResourceUserByState: ZITADEL's user.v2 UserState
// without DELETED (a removed user is no longer listed) and the user types.
const (
	UserStateActive   = "active"
	UserStateInactive = "inactive"
	UserStateLocked   = "locked"
	UserStateInitial  = "initial"

	UserTypeHuman   = "human"
	UserTypeMachine = "machine"
)

// OptIn are the resources counted only when `resources:` names them: each
// costs eight calls per organization.
var OptIn = []string{ResourceUserByState}

// CollectorOnly are the names ZITADEL's own service ping never reports and
// that were not part of the report before they existed: the exporter leaves
// them out of ZITADEL's report unless told to send them.
var CollectorOnly = []string{
	ResourceOrganizationCustomLoginPolicy, ResourceOrganizationEnforceMFA, ResourceOrganizationVerifiedCustomDomain,
}

// Resources lists every resource name a source can count, for checking the
// user's `resources:` list.
var Resources = []string{
	ResourceActionV1, ResourceApplication, ResourceAuthorization, ResourceEnforceMFA, ResourceExecution,
	ResourceExecutionTarget, ResourceIAMAdmin, ResourceIdentityProvider, ResourceIdentityProviderLDAP,
	ResourceLockoutPolicy, ResourceLoginPolicy, ResourceOrganization, ResourceOrganizationCustomLoginPolicy,
	ResourceOrganizationEnforceMFA, ResourceOrganizationVerifiedCustomDomain, ResourcePasswordChangeNotification,
	ResourcePasswordComplexityPolicy, ResourcePasswordExpiryPolicy, ResourceProject, ResourceSCIMProvisionedUser,
	ResourceSession, ResourceUser, ResourceUserByState, ResourceUserMachine,
}

// Instance is one ZITADEL instance: one OTLP resource.
type Instance struct {
	SystemID  string
	Version   string
	ID        string
	Domains   []string // in the source's order; the metrics carry them sorted
	CreatedAt time.Time
}

// Count is one observed amount of a resource under a parent.
type Count struct {
	InstanceID string
	ParentType string // ParentInstance or ParentOrganization
	ParentID   string
	Resource   string
	Table      string // only for counts read from ZITADEL's database
	Amount     int64
	// UserState and UserType split ResourceUserByState; empty otherwise.
	UserState string
	UserType  string
	// UpdatedAt is when ZITADEL last changed the count; set only when the
	// user asks for it, since as an attribute it starts a new series per change.
	UpdatedAt time.Time
}

// Recorder receives what a source observes during one scrape. Instances may be
// recorded before or after their counts; a count for an instance that is never
// recorded still gets a resource carrying the instance id.
type Recorder interface {
	RecordInstance(Instance)
	RecordCount(Count)
}

// Source is one way of observing a ZITADEL installation. Scrape records what it
// can and returns a scrapererror.PartialScrapeError for what it could not.
type Source interface {
	Start(ctx context.Context, host component.Host) error
	Scrape(ctx context.Context, rec Recorder) error
	Shutdown(ctx context.Context) error
}

// ResourceFilter reports whether a resource name is selected by the user's
// `resources:` list; an empty list selects every resource but the OptIn ones.
type ResourceFilter map[string]struct{}

// NewResourceFilter builds a filter from the configured names.
func NewResourceFilter(names []string) ResourceFilter {
	if len(names) == 0 {
		return nil
	}
	f := make(ResourceFilter, len(names))
	for _, n := range names {
		f[n] = struct{}{}
	}
	return f
}

// Selected reports whether name should be counted.
func (f ResourceFilter) Selected(name string) bool {
	if f == nil {
		return !slices.Contains(OptIn, name)
	}
	_, ok := f[name]
	return ok
}

// ScopeName is the instrumentation scope of the metrics the components emit
// and of the meters they count their own work with: scope_name of
// zitadelreceiver/metadata.yaml, as mdatagen generates it (a variable there).
var ScopeName = zitadelreceivermetadata.ScopeName
