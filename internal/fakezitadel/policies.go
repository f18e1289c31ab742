package fakezitadel

import (
	"context"
	"fmt"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	idppb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/idp"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	orgv1 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org"
	policypb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/policy"
)

// providerRows lists an owner's identity providers, its LDAP ones first.
func providerRows(ownerID string, owner idppb.IDPOwnerType, n, ldap int) []*idppb.Provider {
	rows := make([]*idppb.Provider, 0, n)
	for k := range n {
		t := idppb.ProviderType_PROVIDER_TYPE_OIDC
		if k < ldap {
			t = idppb.ProviderType_PROVIDER_TYPE_LDAP
		}
		rows = append(rows, &idppb.Provider{Id: fmt.Sprintf("%s%03d", ownerID, k), Owner: owner, Type: t})
	}
	return rows
}

func loginPolicy(p LoginPolicy, isDefault bool) *policypb.LoginPolicy {
	return &policypb.LoginPolicy{ForceMfa: p.ForceMFA, ForceMfaLocalOnly: p.ForceMFALocalOnly, IsDefault: isDefault}
}

// The admin calls answer the instance's default policies.

func (a adminService) GetLoginPolicy(ctx context.Context, _ *adminpb.GetLoginPolicyRequest) (*adminpb.GetLoginPolicyResponse, error) {
	return &adminpb.GetLoginPolicyResponse{Policy: loginPolicy(infoFrom(ctx).inst.Defaults.Login, true)}, nil
}

func (a adminService) GetPasswordComplexityPolicy(context.Context, *adminpb.GetPasswordComplexityPolicyRequest) (*adminpb.GetPasswordComplexityPolicyResponse, error) {
	return &adminpb.GetPasswordComplexityPolicyResponse{Policy: &policypb.PasswordComplexityPolicy{IsDefault: true}}, nil
}

func (a adminService) GetPasswordAgePolicy(context.Context, *adminpb.GetPasswordAgePolicyRequest) (*adminpb.GetPasswordAgePolicyResponse, error) {
	return &adminpb.GetPasswordAgePolicyResponse{Policy: &policypb.PasswordAgePolicy{IsDefault: true}}, nil
}

func (a adminService) GetLockoutPolicy(context.Context, *adminpb.GetLockoutPolicyRequest) (*adminpb.GetLockoutPolicyResponse, error) {
	return &adminpb.GetLockoutPolicyResponse{Policy: &policypb.LockoutPolicy{IsDefault: true}}, nil
}

func (a adminService) GetNotificationPolicy(ctx context.Context, _ *adminpb.GetNotificationPolicyRequest) (*adminpb.GetNotificationPolicyResponse, error) {
	pc := infoFrom(ctx).inst.Defaults.PasswordChangeNotification
	return &adminpb.GetNotificationPolicyResponse{Policy: &policypb.NotificationPolicy{IsDefault: true, PasswordChange: pc}}, nil
}

// The management calls answer the organization's own policy, or the default
// it inherits with is_default set, as ZITADEL does.

func (m managementService) GetLoginPolicy(ctx context.Context, _ *mgmtpb.GetLoginPolicyRequest) (*mgmtpb.GetLoginPolicyResponse, error) {
	ci := infoFrom(ctx)
	p, inherited := ci.org.Login(ci.inst)
	return &mgmtpb.GetLoginPolicyResponse{Policy: loginPolicy(p, inherited), IsDefault: inherited}, nil
}

func (m managementService) GetPasswordComplexityPolicy(ctx context.Context, _ *mgmtpb.GetPasswordComplexityPolicyRequest) (*mgmtpb.GetPasswordComplexityPolicyResponse, error) {
	inherited := !infoFrom(ctx).org.Policies.PasswordComplexity
	return &mgmtpb.GetPasswordComplexityPolicyResponse{
		Policy: &policypb.PasswordComplexityPolicy{IsDefault: inherited}, IsDefault: inherited,
	}, nil
}

func (m managementService) GetPasswordAgePolicy(ctx context.Context, _ *mgmtpb.GetPasswordAgePolicyRequest) (*mgmtpb.GetPasswordAgePolicyResponse, error) {
	inherited := !infoFrom(ctx).org.Policies.PasswordAge
	return &mgmtpb.GetPasswordAgePolicyResponse{Policy: &policypb.PasswordAgePolicy{IsDefault: inherited}, IsDefault: inherited}, nil
}

func (m managementService) GetLockoutPolicy(ctx context.Context, _ *mgmtpb.GetLockoutPolicyRequest) (*mgmtpb.GetLockoutPolicyResponse, error) {
	inherited := !infoFrom(ctx).org.Policies.Lockout
	return &mgmtpb.GetLockoutPolicyResponse{Policy: &policypb.LockoutPolicy{IsDefault: inherited}, IsDefault: inherited}, nil
}

func (m managementService) GetNotificationPolicy(ctx context.Context, _ *mgmtpb.GetNotificationPolicyRequest) (*mgmtpb.GetNotificationPolicyResponse, error) {
	ci := infoFrom(ctx)
	pc, inherited := ci.org.PasswordChangeNotification(ci.inst)
	return &mgmtpb.GetNotificationPolicyResponse{Policy: &policypb.NotificationPolicy{IsDefault: inherited, PasswordChange: pc}}, nil
}

// ListOrgDomains lists every domain of the organization; ZITADEL has no
// filter on verification.
func (m managementService) ListOrgDomains(ctx context.Context, req *mgmtpb.ListOrgDomainsRequest) (*mgmtpb.ListOrgDomainsResponse, error) {
	domains := infoFrom(ctx).org.Domains
	w := v1Window(m.s, mgmtpb.ManagementService_ListOrgDomains_FullMethodName, req.GetQuery())
	from, to := w.rows(len(domains))
	result := make([]*orgv1.Domain, 0, to-from)
	for _, d := range domains[from:to] {
		result = append(result, &orgv1.Domain{DomainName: d.Name, IsVerified: d.Verified, IsPrimary: d.Primary})
	}
	return &mgmtpb.ListOrgDomainsResponse{Details: v1Details(w, len(domains)), Result: result}, nil
}
