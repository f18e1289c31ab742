package testkit

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// Observed is when the counts of ContractMetrics were observed.
var Observed = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ContractMetrics writes what the receiver would: instances of one system,
// each with counts under its organizations.
func ContractMetrics(systemID string, instances, orgsPerInstance int, resources ...string) pmetric.Metrics {
	b := contract.NewBuilder(Observed.Add(-time.Hour), Observed, "", "")
	for i := range instances {
		instanceID := fmt.Sprintf("1%017d", i)
		b.RecordInstance(model.Instance{
			SystemID: systemID, Version: "v4.2.0", ID: instanceID,
			Domains: []string{fmt.Sprintf("i%d.zitadel.example", i)}, CreatedAt: Observed.AddDate(-1, 0, i),
		})
		for o := range orgsPerInstance {
			for r, resource := range resources {
				b.RecordCount(model.Count{
					InstanceID: instanceID, ParentType: model.ParentOrganization,
					ParentID: fmt.Sprintf("2%08d%09d", i, o), Resource: resource, Table: "projections." + resource + "s",
					Amount: int64(o*10 + r),
				})
			}
		}
	}
	return b.Emit()
}
