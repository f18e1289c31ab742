package zitadelapi

import (
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// SetStorageOwner names the receiver its storage client belongs to.
func (s *source) SetStorageOwner(id component.ID) { s.activity.SetOwner(id) }

// scrapeActivity reads each instance's new activity events and milestones
// alongside the counts.
func (r *scrapeRun) scrapeActivity() {
	t := r.src.activity
	if t == nil {
		return
	}
	for _, inst := range r.instances {
		if !r.submit(func() { r.instanceActivity(t, inst) }) {
			return
		}
	}
}

func (r *scrapeRun) instanceActivity(t *activity.Tracker, inst *instanceRun) {
	report, err := t.Scrape(r.ctx, r.src.client.eventReader(inst.sc, r.src.eventPage), inst.id, r.now)
	if err != nil {
		r.fails.add(inst.label, "", "activity", err)
	}
	milestones, err := r.src.client.listMilestones(r.ctx, inst.sc, r.now)
	if err != nil {
		r.fails.add(inst.label, "", "milestones", err)
	}
	report.Milestones = milestones
	r.recordActivity(inst.id, report)
}

func (r *scrapeRun) recordActivity(instanceID string, report activity.Report) {
	rec, ok := r.rec.(activity.Recorder)
	if !ok {
		return
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	rec.RecordActivity(instanceID, report)
	r.recorded++
}
