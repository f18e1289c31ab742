package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// WithheldResources are the collector's own resource names that the report
// leaves out: every name of model.CollectorOnly that send_resources does not
// name. ZITADEL's names, and whatever else arrives (a newer ZITADEL's names
// through the telemetry receiver), still pass.
func WithheldResources(send []string) map[string]bool {
	// user_by_state rows differ only in attributes the report has no field
	// for: sent, they would be one row several times with different amounts.
	out := map[string]bool{model.ResourceUserByState: true}
	for _, name := range model.CollectorOnly {
		if !slices.Contains(send, name) {
			out[name] = true
		}
	}
	return out
}

func ValidateSendResources(names []string) []error {
	return configcheck.List("send_resources", "resource name", names, func(name string) string {
		if name == model.ResourceUserByState {
			return fmt.Sprintf("is never sent: its counts differ only by %s and %s, which ZITADEL's report has no field for",
				contract.AttrUserState, contract.AttrUserType)
		}
		if !slices.Contains(model.CollectorOnly, name) {
			return fmt.Sprintf("is not one of the names this collector adds (%s); ZITADEL's own names are always sent",
				strings.Join(model.CollectorOnly, ", "))
		}
		return ""
	})
}
