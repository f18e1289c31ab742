package zitadeltelemetry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// withheldResources are the collector's own resource names that the report
// leaves out: every name of model.CollectorOnly that send_resources does not
// name. ZITADEL's names, and whatever else arrives (a newer ZITADEL's names
// through the telemetry receiver), still pass.
func withheldResources(send []string) map[string]bool {
	out := make(map[string]bool, len(model.CollectorOnly))
	for _, name := range model.CollectorOnly {
		if !slices.Contains(send, name) {
			out[name] = true
		}
	}
	return out
}

func validateSendResources(names []string) []error {
	var errs []error
	for i, name := range names {
		if !slices.Contains(model.CollectorOnly, name) {
			errs = append(errs, fmt.Errorf("send_resources[%d]: %q is not one of the names this collector adds (%s); ZITADEL's own names are always sent",
				i, name, strings.Join(model.CollectorOnly, ", ")))
		}
	}
	return errs
}
