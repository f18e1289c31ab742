package zitadeltelemetryreceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
	"github.com/otelcol-zitadel/zitadeltelemetry/zitadeltelemetryreceiver/internal/metadata"
)

// The receiver's own metrics are metadata.yaml's (telemetry:), built by
// mdatagen's TelemetryBuilder; the collector's Prometheus endpoint adds
// _total. The standard otelcol_receiver_accepted_metric_points counts data
// points, the instances' information points included, and nothing for a
// metric switched off: these count what the clients sent.

// receiverCalls counts the calls the receiver answered, by wire: a report
// once its base information was taken, a page and its rows once the next
// consumer took them (or nothing was to be emitted).
type receiverCalls struct {
	wires map[string]metric.MeasurementOption
	own   *metadata.TelemetryBuilder
}

func newReceiverCalls(set component.TelemetrySettings) (*receiverCalls, error) {
	c := receiverCalls{wires: make(map[string]metric.MeasurementOption)}
	for _, wire := range telemetryservice.Wires {
		c.wires[wire] = metric.WithAttributeSet(attribute.NewSet(attribute.String("wire", wire)))
	}
	var err error
	if c.own, err = metadata.NewTelemetryBuilder(set); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *receiverCalls) reportAccepted(ctx context.Context, wire string) {
	c.own.ZitadeltelemetryReceiverAcceptedReports.Add(context.WithoutCancel(ctx), 1, c.wires[wire])
}

func (c *receiverCalls) pageAccepted(ctx context.Context, wire string, rows int) {
	ctx = context.WithoutCancel(ctx)
	c.own.ZitadeltelemetryReceiverAcceptedPages.Add(ctx, 1, c.wires[wire])
	c.own.ZitadeltelemetryReceiverAcceptedRows.Add(ctx, int64(rows), c.wires[wire])
}

func (c *receiverCalls) refused(ctx context.Context, wire, reason string) {
	c.own.ZitadeltelemetryReceiverRefusedCalls.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("wire", wire), attribute.String("reason", reason)))
}
