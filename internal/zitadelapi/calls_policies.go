package zitadelapi

import (
	"context"
	"strings"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	idppb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/idp"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	objectv1 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	policypb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/policy"
)

// policyKind names one of the policies ZITADEL counts: each has an instance
// default (AdminService) and may have an organization's own (ManagementService).
type policyKind int

const (
	policyLogin policyKind = iota
	policyPasswordComplexity
	policyPasswordAge
	policyLockout
	policyNotification
)

// policyState is what the counts need from a policy: whether it is the
// inherited default, and its switches.
type policyState struct {
	isDefault      bool
	enforcesMFA    bool // login: force_mfa or force_mfa_local_only, ZITADEL's enforce_mfa condition
	passwordChange bool // notification
}

func loginState(p *policypb.LoginPolicy) policyState {
	return policyState{isDefault: p.GetIsDefault(), enforcesMFA: p.GetForceMfa() || p.GetForceMfaLocalOnly()}
}

// getDefaultPolicy reads the instance's default policy of a kind. Every
// instance has one (ZITADEL's setup writes them); found is false only when
// the answer carries none.
func (c *client) getDefaultPolicy(ctx context.Context, sc scope, kind policyKind) (st policyState, found bool, err error) {
	switch kind {
	case policyLogin:
		resp := &adminpb.GetLoginPolicyResponse{}
		err = c.call(ctx, sc, adminpb.AdminService_GetLoginPolicy_FullMethodName, &adminpb.GetLoginPolicyRequest{}, resp)
		return loginState(resp.GetPolicy()), resp.GetPolicy() != nil, err
	case policyPasswordComplexity:
		resp := &adminpb.GetPasswordComplexityPolicyResponse{}
		err = c.call(ctx, sc, adminpb.AdminService_GetPasswordComplexityPolicy_FullMethodName, &adminpb.GetPasswordComplexityPolicyRequest{}, resp)
		return policyState{isDefault: true}, resp.GetPolicy() != nil, err
	case policyPasswordAge:
		resp := &adminpb.GetPasswordAgePolicyResponse{}
		err = c.call(ctx, sc, adminpb.AdminService_GetPasswordAgePolicy_FullMethodName, &adminpb.GetPasswordAgePolicyRequest{}, resp)
		return policyState{isDefault: true}, resp.GetPolicy() != nil, err
	case policyLockout:
		resp := &adminpb.GetLockoutPolicyResponse{}
		err = c.call(ctx, sc, adminpb.AdminService_GetLockoutPolicy_FullMethodName, &adminpb.GetLockoutPolicyRequest{}, resp)
		return policyState{isDefault: true}, resp.GetPolicy() != nil, err
	default:
		resp := &adminpb.GetNotificationPolicyResponse{}
		err = c.call(ctx, sc, adminpb.AdminService_GetNotificationPolicy_FullMethodName, &adminpb.GetNotificationPolicyRequest{}, resp)
		return policyState{isDefault: true, passwordChange: resp.GetPolicy().GetPasswordChange()}, resp.GetPolicy() != nil, err
	}
}

// getOrgPolicy reads the policy an organization (sc.orgID) works with: its
// own, or the default it inherits (is_default).
func (c *client) getOrgPolicy(ctx context.Context, sc scope, kind policyKind) (policyState, error) {
	switch kind {
	case policyLogin:
		resp := &mgmtpb.GetLoginPolicyResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_GetLoginPolicy_FullMethodName, &mgmtpb.GetLoginPolicyRequest{}, resp)
		st := loginState(resp.GetPolicy())
		st.isDefault = resp.GetIsDefault()
		return st, err
	case policyPasswordComplexity:
		resp := &mgmtpb.GetPasswordComplexityPolicyResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_GetPasswordComplexityPolicy_FullMethodName, &mgmtpb.GetPasswordComplexityPolicyRequest{}, resp)
		return policyState{isDefault: resp.GetIsDefault()}, err
	case policyPasswordAge:
		resp := &mgmtpb.GetPasswordAgePolicyResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_GetPasswordAgePolicy_FullMethodName, &mgmtpb.GetPasswordAgePolicyRequest{}, resp)
		return policyState{isDefault: resp.GetIsDefault()}, err
	case policyLockout:
		resp := &mgmtpb.GetLockoutPolicyResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_GetLockoutPolicy_FullMethodName, &mgmtpb.GetLockoutPolicyRequest{}, resp)
		return policyState{isDefault: resp.GetIsDefault()}, err
	default:
		// The notification policy's answer has no is_default of its own.
		resp := &mgmtpb.GetNotificationPolicyResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_GetNotificationPolicy_FullMethodName, &mgmtpb.GetNotificationPolicyRequest{}, resp)
		p := resp.GetPolicy()
		return policyState{isDefault: p.GetIsDefault(), passwordChange: p.GetPasswordChange()}, err
	}
}

// providerTally is one owner's identity providers: all and the LDAP ones.
type providerTally struct {
	total, ldap int64
}

// tallyProviders pages through the instance's own providers (sc without an
// organization) or an organization's own, reading each provider's type: no
// ZITADEL list filters on it.
func (c *client) tallyProviders(ctx context.Context, sc scope, pageSize uint32) (providerTally, error) {
	var t providerTally
	for offset := uint64(0); ; {
		q := &objectv1.ListQuery{Offset: offset, Limit: pageSize}
		var page []*idppb.Provider
		var n uint64
		var err error
		if sc.orgID == "" {
			resp := &adminpb.ListProvidersResponse{}
			err = c.call(ctx, sc, adminpb.AdminService_ListProviders_FullMethodName, &adminpb.ListProvidersRequest{Query: q}, resp)
			page, n = resp.GetResult(), resp.GetDetails().GetTotalResult()
		} else {
			resp := &mgmtpb.ListProvidersResponse{}
			err = c.call(ctx, sc, mgmtpb.ManagementService_ListProviders_FullMethodName, &mgmtpb.ListProvidersRequest{
				Query: q,
				Queries: []*mgmtpb.ProviderQuery{{Query: &mgmtpb.ProviderQuery_OwnerTypeQuery{
					OwnerTypeQuery: &idppb.IDPOwnerTypeQuery{OwnerType: idppb.IDPOwnerType_IDP_OWNER_TYPE_ORG},
				}}},
			}, resp)
			page, n = resp.GetResult(), resp.GetDetails().GetTotalResult()
		}
		if err != nil {
			return providerTally{}, err
		}
		if offset == 0 {
			t.total = total(n)
		}
		for _, p := range page {
			if p.GetType() == idppb.ProviderType_PROVIDER_TYPE_LDAP {
				t.ldap++
			}
		}
		offset += uint64(len(page))
		if len(page) == 0 || offset >= n {
			return t, nil
		}
	}
}

// countVerifiedCustomDomains pages through the organization's domains and
// counts the verified ones that are not under an instance domain: those are
// the ones ZITADEL generates for every organization.
func (c *client) countVerifiedCustomDomains(ctx context.Context, sc scope, pageSize uint32, instanceDomains []string) (int64, error) {
	var n int64
	for offset := uint64(0); ; {
		resp := &mgmtpb.ListOrgDomainsResponse{}
		err := c.call(ctx, sc, mgmtpb.ManagementService_ListOrgDomains_FullMethodName,
			&mgmtpb.ListOrgDomainsRequest{Query: &objectv1.ListQuery{Offset: offset, Limit: pageSize}}, resp)
		if err != nil {
			return 0, err
		}
		for _, d := range resp.GetResult() {
			if d.GetIsVerified() && !underAny(d.GetDomainName(), instanceDomains) {
				n++
			}
		}
		offset += uint64(len(resp.GetResult()))
		if len(resp.GetResult()) == 0 || offset >= resp.GetDetails().GetTotalResult() {
			return n, nil
		}
	}
}

func underAny(domain string, parents []string) bool {
	for _, p := range parents {
		if strings.HasSuffix(domain, "."+p) {
			return true
		}
	}
	return false
}
