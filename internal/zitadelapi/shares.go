package zitadelapi

import (
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// countInstanceShares adds the instance's own part of the summed totals: its
// default policies, which ZITADEL counts as one row each (the notification
// policy when it notifies of password changes, the login policy towards
// enforce_mfa when it forces MFA), and its own LDAP providers.
func (r *scrapeRun) countInstanceShares(inst *instanceRun) {
	plan := r.src.plan
	if plan.sumsUp(model.ResourceLoginPolicy) || plan.sumsUp(model.ResourceEnforceMFA) {
		r.defaultPolicy(inst, policyLogin, func(p policyState) {
			inst.addOwn(model.ResourceLoginPolicy, 1)
			inst.addOwn(model.ResourceEnforceMFA, b2i(p.enforcesMFA))
		}, model.ResourceLoginPolicy, model.ResourceEnforceMFA)
	}
	for _, res := range []string{
		model.ResourcePasswordComplexityPolicy, model.ResourcePasswordExpiryPolicy,
		model.ResourceLockoutPolicy, model.ResourcePasswordChangeNotification,
	} {
		if !plan.sumsUp(res) {
			continue
		}
		kind := policyOf[res]
		r.defaultPolicy(inst, kind, func(p policyState) {
			if kind != policyNotification || p.passwordChange {
				inst.addOwn(res, 1)
			}
		}, res)
	}
	if plan.sumsUp(model.ResourceIdentityProviderLDAP) {
		n, out := r.count(inst, "", model.ResourceIdentityProviderLDAP, func() (int64, error) {
			t, err := r.src.client.tallyProviders(r.ctx, inst.sc, uint32(r.src.cfg.PageSize))
			return t.ldap, err
		})
		if out != counted {
			inst.incomplete(model.ResourceIdentityProviderLDAP)
		}
		inst.addOwn(model.ResourceIdentityProviderLDAP, n)
	}
}

// defaultPolicy reads one default policy and hands it to use; resources are
// the sums that depend on it, the first naming the call in messages.
func (r *scrapeRun) defaultPolicy(inst *instanceRun, kind policyKind, use func(policyState), resources ...string) {
	var p policyState
	var found bool
	_, out := r.count(inst, "", resources[0], func() (int64, error) {
		var err error
		p, found, err = r.src.client.getDefaultPolicy(r.ctx, inst.sc, kind)
		return 0, err
	})
	if out != counted {
		inst.incomplete(resources...)
		return
	}
	if found {
		use(p)
	}
}
