package drain

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

// Period is how long shutdown lets the work in progress (reports being
// sent, counts being handed to the pipeline) finish before it interrupts it:
// enough for a responsive endpoint to take a queue of reports, and well
// inside Kubernetes' default 30 s grace period, which also has the other
// components to stop.
const Period = 5 * time.Second

// Stop cuts short, at shutdown, work that waits on a peer: first it
// lets it finish for the drain period (or until the shutdown context ends),
// then it cancels it and counts what it cancelled, so that shutdown can say
// once what it gave up.
type Stop struct {
	stopping context.Context
	stop     context.CancelFunc
	// Drain is Period, shorter in tests.
	Drain       time.Duration
	interrupted atomic.Int64
	// cut is what interrupted work returns, wrapping the work's own error.
	cut error

	draining sync.Once
	drained  *time.Timer
}

func New(cut error) *Stop {
	stopping, stop := context.WithCancel(context.Background())
	return &Stop{stopping: stopping, stop: stop, Drain: Period, cut: cut}
}

// Run runs work with a context that also ends when the stop interrupts it.
// A failure the stop caused is retryable (wrapped in d.cut): exporterhelper
// hands such a batch back to a persistent queue. A permanent failure stays
// what it is.
func (d *Stop) Run(ctx context.Context, work func(context.Context) error) error {
	if d.stopping.Err() != nil {
		d.interrupted.Add(1)
		return d.cut
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.stopping, cancel)()
	err := work(ctx)
	if err != nil && d.stopping.Err() != nil && !consumererror.IsPermanent(err) {
		d.interrupted.Add(1)
		return fmt.Errorf("%w: %w", d.cut, err)
	}
	return err
}

// StartDrain starts the drain period, once: work still running when it ends
// is interrupted. Shutdown starts it; so does work sent at shutdown
// (send_on_shutdown) before the rest of the shutdown, sharing one period.
func (d *Stop) StartDrain() {
	d.draining.Do(func() { d.drained = time.AfterFunc(d.Drain, d.stop) })
}

// Shutdown runs the rest of a component's shutdown, interrupting the work in
// progress after the drain period or when ctx ends, and returns how many
// pieces of work it interrupted.
func (d *Stop) Shutdown(ctx context.Context, rest func(context.Context) error) (int64, error) {
	d.StartDrain()
	defer d.drained.Stop()
	defer context.AfterFunc(ctx, d.stop)()
	err := rest(ctx)
	d.stop()
	return d.interrupted.Load(), err
}

// Stopping ends when the stop interrupts the work: at the end of the drain
// period, or when the shutdown context ends.
func (d *Stop) Stopping() context.Context { return d.stopping }
