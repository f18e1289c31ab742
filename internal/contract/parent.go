package contract

import (
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// The contract names a count's parent zitadel.parent.type "instance" or
// "organization"; ZITADEL's report names it with CountParentType.

// ParentTypeOf maps the contract's parent type, which the report mapping has checked.
func ParentTypeOf(s string) analytics.CountParentType {
	if s == model.ParentInstance {
		return analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE
	}
	return analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION
}

// ParentTypeName is the inverse of ParentTypeOf; an unspecified type stays
// unspecified.
func ParentTypeName(t analytics.CountParentType) string {
	switch t {
	case analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE:
		return model.ParentInstance
	case analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION:
		return model.ParentOrganization
	}
	return ""
}
