// Package activitytest holds what tests of the activity on either source
// share: the reports a scrape recorded.
package activitytest

import (
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// Reports keeps the activity each instance recorded.
type Reports map[string]activity.Report

func (r Reports) RecordActivity(id string, rep activity.Report) { r[id] = rep }

// Logins is the total of a report's login counter.
func Logins(r activity.Report) uint64 {
	var n uint64
	for _, l := range r.Logins {
		n += l.Count
	}
	return n
}

// LoginsByApplication is a report's login counter summed by application.
func LoginsByApplication(r activity.Report) map[string]uint64 {
	apps := map[string]uint64{}
	for _, l := range r.Logins {
		apps[l.Application] += l.Count
	}
	return apps
}
