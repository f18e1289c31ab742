package zitadeltelemetry

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

// auditStorageName names the audit trail's storage client, apart from the
// activity counters' one.
const auditStorageName = "audit_log"

// sharedSources holds one source per receiver configuration: with one
// receiver id in a metrics and a logs pipeline the collector creates the
// receiver once per pipeline, with the same configuration, and both read
// through one connection to ZITADEL.
var sharedSources = struct {
	sync.Mutex
	m map[*ReceiverConfig]*sharedSource
}{m: map[*ReceiverConfig]*sharedSource{}}

// sharedSource starts its source with the first receiver started and
// shuts it down with the last one.
type sharedSource struct {
	model.Source
	cfg     *ReceiverConfig
	mu      sync.Mutex
	running int
}

// sourceOf returns the source of a configuration, made by newSource the
// first time.
func sourceOf(cfg *ReceiverConfig, newSource func() model.Source) *sharedSource {
	sharedSources.Lock()
	defer sharedSources.Unlock()
	s, ok := sharedSources.m[cfg]
	if !ok {
		s = &sharedSource{Source: newSource(), cfg: cfg}
		sharedSources.m[cfg] = s
	}
	return s
}

func (s *sharedSource) Start(ctx context.Context, host component.Host) error {
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

func (s *sharedSource) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running > 1 {
		s.running--
		return nil
	}
	sharedSources.Lock()
	if sharedSources.m[s.cfg] == s {
		delete(sharedSources.m, s.cfg)
	}
	sharedSources.Unlock()
	if s.running == 0 {
		return nil // never started, or shut down already
	}
	s.running = 0
	return s.Source.Shutdown(ctx)
}

// logsReceiver delivers ZITADEL's audit trail into a logs pipeline.
type logsReceiver struct {
	cfg    *ReceiverConfig
	set    receiver.Settings
	next   consumer.Logs
	source *sharedSource

	store  storage.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	rc := cfg.(*ReceiverConfig)
	own, err := zitadelreceivermetadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	src := sourceOf(rc, func() model.Source { return newSource(rc, set.TelemetrySettings, own) })
	if _, ok := src.Source.(audittrail.Source); !ok {
		return nil, fmt.Errorf("audit_log: source %q does not read ZITADEL's events", rc.Source)
	}
	return &logsReceiver{cfg: rc, set: set, next: next, source: src}, nil
}

func (r *logsReceiver) Start(ctx context.Context, host component.Host) error {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: r.set.ID, Transport: r.cfg.Source, LongLivedCtx: true, ReceiverCreateSettings: r.set,
	})
	if err != nil {
		return err
	}
	store, err := r.openStorage(ctx, host)
	if err != nil {
		return err
	}
	if err := r.source.Start(ctx, host); err != nil {
		if store != nil {
			_ = store.Close(ctx)
		}
		return err
	}
	if store == nil {
		r.set.Logger.Info("The audit trail starts again from audit_log::lookback at every restart: set audit_log::storage to keep its position")
	}
	r.store = store
	trail := audittrail.New(&r.cfg.AuditLog, audittrail.Settings{
		Source: r.source.Source.(audittrail.Source), Next: r.next, Store: store, Obs: obs, Logger: r.set.Logger,
		Host: host,
	})
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		trail.Run(runCtx)
	}()
	return nil
}

// Shutdown stops the trail at its read position: a page the pipeline had
// not accepted is read again by the next start.
func (r *logsReceiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
	var err error
	if r.store != nil {
		err = r.store.Close(ctx)
		r.store = nil
	}
	if serr := r.source.Shutdown(ctx); err == nil {
		err = serr
	}
	return err
}

func (r *logsReceiver) openStorage(ctx context.Context, host component.Host) (storage.Client, error) {
	id := r.cfg.AuditLog.Storage
	if id == nil {
		return nil, nil
	}
	ext, ok := host.GetExtensions()[*id]
	if !ok {
		return nil, fmt.Errorf("audit_log::storage: extension %q is not configured; add it under extensions and service::extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("audit_log::storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, r.set.ID, auditStorageName)
	if err != nil {
		return nil, fmt.Errorf("audit_log::storage: extension %q: %w", id, err)
	}
	return client, nil
}
