package audittrail

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/storageclient"
)

// storageName names the audit trail's storage client, apart from the
// activity counters' one.
const storageName = "audit_log"

// Receiver delivers ZITADEL's audit trail into a logs pipeline.
type Receiver struct {
	cfg       *Config
	set       receiver.Settings
	transport string
	next      consumer.Logs
	// lifecycle starts and shuts down the source, which other pipelines
	// of the same receiver id may share.
	lifecycle component.Component
	source    Source

	store  storage.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// NewReceiver is the logs receiver of a valid configuration; transport
// names the source in the receiver's own metrics.
func NewReceiver(cfg *Config, set receiver.Settings, transport string, next consumer.Logs, lifecycle component.Component, source Source) *Receiver {
	return &Receiver{cfg: cfg, set: set, transport: transport, next: next, lifecycle: lifecycle, source: source}
}

// eventsChecker is a source that can tell before its first read that it
// reads no events, by its configuration.
type eventsChecker interface{ CanReadEvents() error }

func (r *Receiver) Start(ctx context.Context, host component.Host) error {
	if c, ok := r.source.(eventsChecker); ok {
		if err := c.CanReadEvents(); err != nil {
			return err
		}
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: r.set.ID, Transport: r.transport, LongLivedCtx: true, ReceiverCreateSettings: r.set,
	})
	if err != nil {
		return err
	}
	var store storage.Client
	if r.cfg.Storage != nil {
		store, err = storageclient.Open(ctx, host, "audit_log::storage", *r.cfg.Storage, component.KindReceiver, r.set.ID, storageName)
		if err != nil {
			return err
		}
	}
	if err := r.lifecycle.Start(ctx, host); err != nil {
		if store != nil {
			_ = store.Close(ctx)
		}
		return err
	}
	if store == nil {
		r.set.Logger.Info("The audit trail starts again from audit_log::lookback at every restart: set audit_log::storage to keep its position")
	}
	r.store = store
	trail := New(r.cfg, Settings{Source: r.source, Next: r.next, Store: store, Obs: obs, Logger: r.set.Logger, Host: host})
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
func (r *Receiver) Shutdown(ctx context.Context) error {
	if r.cancel == nil {
		// Not started, or its start failed before the source was started:
		// the source other pipelines share is not this one's to stop.
		return nil
	}
	r.cancel()
	r.cancel = nil
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	var err error
	if r.store != nil {
		err = r.store.Close(ctx)
		r.store = nil
	}
	if serr := r.lifecycle.Shutdown(ctx); err == nil {
		err = serr
	}
	return err
}
