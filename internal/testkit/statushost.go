package testkit

import (
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// StatusHost is a host that keeps the status events a component reports, for
// tests.
type StatusHost struct {
	mu     sync.Mutex
	events []*componentstatus.Event
}

var _ componentstatus.Reporter = (*StatusHost)(nil)

func (r *StatusHost) GetExtensions() map[component.ID]component.Component { return nil }

func (r *StatusHost) Report(ev *componentstatus.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// Events are the events reported so far, oldest first.
func (r *StatusHost) Events() []*componentstatus.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*componentstatus.Event(nil), r.events...)
}

// Statuses are the statuses of Events.
func (r *StatusHost) Statuses() []componentstatus.Status {
	var out []componentstatus.Status
	for _, ev := range r.Events() {
		out = append(out, ev.Status())
	}
	return out
}
