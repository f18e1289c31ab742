// Package health reports a component's health to the collector, where the
// health_check extension (with component status) and zpages show it. The
// zitadel receiver reports after every scrape, the zitadeltelemetry
// exporter after every report: a failure is a recoverable error, since the
// next scrape or report may succeed (ZITADEL or the endpoint back, a
// credential renewed); the next success reports the component OK again.
package health

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// Report tells host how the component's last piece of work ended: err nil
// is OK, anything else a recoverable error carrying err. A host that takes no
// status (tests, a nil host) is ignored.
func Report(host component.Host, err error) {
	if host == nil {
		return
	}
	if err != nil {
		componentstatus.ReportStatus(host, componentstatus.NewRecoverableErrorEvent(err))
		return
	}
	componentstatus.ReportStatus(host, componentstatus.NewEvent(componentstatus.StatusOK))
}
