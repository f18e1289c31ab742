package testkit

import (
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// The benchmarks' batch: 100 instances of 500 organizations, each with
// every resource ZITADEL counts, one million counts.
const (
	BenchInstances = 100
	BenchOrgs      = 500
	BenchCounts    = BenchInstances * BenchOrgs * 20
)

var benchResources = []string{
	model.ResourceUser, model.ResourceUserMachine, model.ResourceProject, model.ResourceApplication,
	model.ResourceSession, model.ResourceAuthorization, model.ResourceSCIMProvisionedUser, model.ResourceIAMAdmin,
	model.ResourceIdentityProvider, model.ResourceIdentityProviderLDAP, model.ResourceActionV1, model.ResourceExecution,
	model.ResourceExecutionTarget, model.ResourceLoginPolicy, model.ResourceEnforceMFA,
	model.ResourcePasswordComplexityPolicy, model.ResourcePasswordExpiryPolicy, model.ResourceLockoutPolicy,
	model.ResourcePasswordChangeNotification, model.ResourceOrganization,
}

// BenchMetrics is the benchmarks' batch, built once.
var BenchMetrics = sync.OnceValue(func() pmetric.Metrics {
	md := ContractMetrics("bench-system-0123456789abcdefghijklmnopqrstuvwxyz", BenchInstances, BenchOrgs, benchResources...)
	if n := md.DataPointCount(); n != BenchCounts {
		panic(fmt.Sprintf("benchmark data has %d counts, not %d", n, BenchCounts))
	}
	return md
})
