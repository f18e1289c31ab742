// Package sharedsource keeps one source per receiver configuration: with one
// receiver id in a metrics and a logs pipeline the collector creates the
// receiver once per pipeline, with the same configuration, and both read
// through one connection to ZITADEL and count their own work with one
// TelemetryBuilder. Any package may import it.
package sharedsource

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

var sources = struct {
	sync.Mutex
	m map[any]*Source
}{m: map[any]*Source{}}

// Source starts its source with the first receiver started and shuts it
// down with the last one.
type Source struct {
	model.Source
	// Own are the receiver's own metrics, which the source counts with and
	// the receivers of its configuration share.
	Own *zitadelreceivermetadata.TelemetryBuilder

	key     any
	mu      sync.Mutex
	running int
}

// Of returns the source of the configuration key (a pointer), made the
// first time: the receiver's own metrics from set, then the source by
// newSource, which counts with them.
func Of(key any, set component.TelemetrySettings, newSource func(*zitadelreceivermetadata.TelemetryBuilder) model.Source) (*Source, error) {
	sources.Lock()
	defer sources.Unlock()
	if s, ok := sources.m[key]; ok {
		return s, nil
	}
	own, err := zitadelreceivermetadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	s := &Source{Source: newSource(own), Own: own, key: key}
	sources.m[key] = s
	return s, nil
}

// Held reports whether a source of key is kept, and how many receivers
// started it.
func Held(key any) (held bool, running int) {
	sources.Lock()
	s, ok := sources.m[key]
	sources.Unlock()
	if !ok {
		return false, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return true, s.running
}

func (s *Source) Start(ctx context.Context, host component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == 0 {
		if err := s.Source.Start(ctx, host); err != nil {
			return err
		}
	}
	s.running++
	return nil
}

func (s *Source) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running > 1 {
		s.running--
		return nil
	}
	sources.Lock()
	if sources.m[s.key] == s {
		delete(sources.m, s.key)
	}
	sources.Unlock()
	if s.running == 0 {
		return nil // never started, or shut down already
	}
	s.running = 0
	return s.Source.Shutdown(ctx)
}
