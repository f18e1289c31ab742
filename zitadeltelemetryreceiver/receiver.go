package zitadeltelemetryreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/drain"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryservice"
)

// telemetryReceiver is the TelemetryService endpoint: it checks each call,
// turns it into the metric contract and answers only once the next consumer
// took the metrics, so backpressure reaches the client as a retryable answer.
type telemetryReceiver struct {
	cfg     *Config
	set     receiver.Settings
	next    consumer.Metrics
	ids     *reportIDs
	hashIDs *idhash.Hasher                       // nil without id_hash_key
	obs     map[string]*receiverhelper.ObsReport // by wire
	calls   *receiverCalls
	now     func() time.Time
	started time.Time

	httpServer *http.Server
	grpcServer *grpc.Server
	// inFlight and connections bound what every wire holds together.
	inFlight    *telemetryservice.InFlight
	connections *telemetryservice.Connections
	serving     sync.WaitGroup
	// handOffs are the pages being consumed; shutdown cuts them short after
	// the drain period, since without a sending queue the next consumer may
	// send and retry for minutes.
	handOffs *drain.Stop
}

func newTelemetryReceiver(cfg *Config, set receiver.Settings, next consumer.Metrics) (*telemetryReceiver, error) {
	r := &telemetryReceiver{
		cfg: cfg, set: set, next: next, now: time.Now, obs: make(map[string]*receiverhelper.ObsReport),
		handOffs: drain.New(errShutdownPage), inFlight: telemetryservice.NewInFlight(cfg.MaxBytesInFlight),
		connections: telemetryservice.NewConnections(cfg.MaxConnections, servers(cfg)),
	}
	ids, err := newReportIDs(string(cfg.ReportIDs.Key), cfg.ReportIDs.TTL, func() time.Time { return r.now() })
	if err != nil {
		return nil, err
	}
	r.ids = ids
	r.hashIDs = idhash.New(cfg.IDHashKey)
	for _, wire := range telemetryservice.Wires {
		obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: wire, ReceiverCreateSettings: set})
		if err != nil {
			return nil, err
		}
		r.obs[wire] = obs
	}
	if r.calls, err = newReceiverCalls(set.TelemetrySettings); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *telemetryReceiver) Start(ctx context.Context, host component.Host) error {
	r.started = r.now()
	if h := r.cfg.HTTP.Get(); h != nil {
		if err := r.startHTTP(ctx, host, h); err != nil {
			return err
		}
	}
	if g := r.cfg.GRPC.Get(); g != nil {
		if err := r.startGRPC(ctx, host, g); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	return nil
}

func (r *telemetryReceiver) startHTTP(ctx context.Context, host component.Host, h *HTTPConfig) error {
	// The handler and the server enforce one body limit, made explicit
	// before either is built.
	server := h.ServerConfig
	server.MaxRequestBodySize = httpMaxBodyBytes(h)
	handler := telemetryservice.NewHTTPHandler(r, telemetryservice.HTTPOptions{
		Path: h.Path, Secret: string(h.PathSecret), MaxBodyBytes: server.MaxRequestBodySize, Decoding: r.decoding(),
	})
	srv, err := server.ToServer(ctx, host.GetExtensions(), r.set.TelemetrySettings, handler)
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	// A declared length over the limit is answered before confighttp's
	// middleware, which hides it for a compressed body and, for gzip and
	// zlib, waits for the body's first bytes.
	srv.Handler = telemetryservice.RefuseDeclaredOverLimit(r, server.MaxRequestBodySize, srv.Handler)
	srv.MaxHeaderBytes = r.cfg.MaxHeaderBytes
	ln, err := server.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("http: listening on %s: %w", h.NetAddr.Endpoint, err)
	}
	ln = r.connections.LimitHTTP(srv, ln)
	r.httpServer = srv
	r.set.Logger.Info("Serving ZITADEL's service ping and Connect", zap.String("endpoint", ln.Addr().String()), zap.String("path", h.Path),
		zap.Bool("path_secret", h.PathSecret != ""))
	r.serve(host, func() error { return srv.Serve(ln) }, http.ErrServerClosed)
	return nil
}

func (r *telemetryReceiver) startGRPC(ctx context.Context, host component.Host, g *GRPCConfig) error {
	opts := []configgrpc.ToServerOption{
		configgrpc.WithGrpcServerOption(grpc.MaxHeaderListSize(uint32(r.cfg.MaxHeaderBytes))),
		configgrpc.WithGrpcServerOption(grpc.ConnectionTimeout(grpcHandshakeTimeout)),
	}
	for _, opt := range telemetryservice.GRPCServerOptions() {
		opts = append(opts, configgrpc.WithGrpcServerOption(opt))
	}
	srv, err := g.ToServer(ctx, host.GetExtensions(), r.set.TelemetrySettings, opts...)
	if err != nil {
		return fmt.Errorf("grpc server: %w", err)
	}
	telemetryservice.RegisterGRPC(srv, r, r.decoding(), telemetryservice.GRPCOptions{
		MaxMessageBytes: grpcMaxMessageBytes(g), ReadTimeout: g.ReadTimeout,
	})
	ln, err := g.NetAddr.Listen(ctx)
	if err != nil {
		return fmt.Errorf("grpc: listening on %s: %w", g.NetAddr.Endpoint, err)
	}
	ln = r.connections.Limit(ln)
	r.grpcServer = srv
	r.set.Logger.Info("Serving the TelemetryService over gRPC", zap.String("endpoint", ln.Addr().String()))
	r.serve(host, func() error { return srv.Serve(ln) }, grpc.ErrServerStopped)
	return nil
}

// servers is how many servers share max_connections.
func servers(cfg *Config) int {
	n := 0
	if cfg.HTTP.HasValue() {
		n++
	}
	if cfg.GRPC.HasValue() {
		n++
	}
	return n
}

// decoding keeps the rows' times only when they become an attribute, and
// bounds what is decoded at all: the systems taken, the instances per call,
// the rows per page, the bytes in flight on every wire.
func (r *telemetryReceiver) decoding() telemetryservice.Decoding {
	d := telemetryservice.Decoding{
		DropUpdatedAt: !r.cfg.UpdatedAtAttribute,
		MaxInstances:  r.cfg.MaxInstancesPerCall, MaxDomains: maxDomainsPerInstance, MaxRows: r.cfg.MaxRowsPerPage,
		InFlight: r.inFlight,
	}
	if len(r.cfg.Systems) > 0 {
		d.Systems = make(map[string]struct{}, len(r.cfg.Systems))
		for _, id := range r.cfg.Systems {
			d.Systems[id] = struct{}{}
		}
	}
	return d
}

// serve runs a server until Shutdown; one that stops serving before is a
// fatal error the host is told about, as health checks then see it, since
// the clients reporting to it are refused from then on.
func (r *telemetryReceiver) serve(host component.Host, serve func() error, closed error) {
	r.serving.Go(func() {
		if err := serve(); err != nil && !errors.Is(err, closed) && !errors.Is(err, net.ErrClosed) {
			r.set.Logger.Error("TelemetryService server stopped serving", zap.Error(err))
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
}

// Shutdown lets the calls in flight finish (their pages are consumed and
// answered) for the drain period or until ctx ends, then cancels what still
// waits on the pipeline, which answers it as retryable, and drops the
// connections: a client whose call was cut off sends the page again.
func (r *telemetryReceiver) Shutdown(ctx context.Context) error {
	n, err := r.handOffs.Shutdown(ctx, r.stopServing)
	if n > 0 {
		r.set.Logger.Warn(fmt.Sprintf("Shutdown interrupted %d call(s) whose data the pipeline had not taken within %s; "+
			"they were answered as retryable, and their clients send them again", n, r.handOffs.Drain))
	}
	return err
}

var errShutdownPage = errors.New("the collector is shutting down")

func (r *telemetryReceiver) stopServing(ctx context.Context) error {
	var err error
	if r.httpServer != nil {
		if err = r.httpServer.Shutdown(ctx); err != nil {
			err = errors.Join(err, r.httpServer.Close())
		}
	}
	if r.grpcServer != nil {
		stopped := make(chan struct{})
		go func() {
			r.grpcServer.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-ctx.Done():
			r.grpcServer.Stop()
			<-stopped
		}
	}
	r.serving.Wait()
	return err
}

// ReportBaseInformation implements telemetryservice.Handler.
func (r *telemetryReceiver) ReportBaseInformation(ctx context.Context, call telemetryservice.Call, req *analytics.ReportBaseInformationRequest) (string, error) {
	if p := checkBaseInformation(req); p.Count() > 0 {
		return "", r.refuse(ctx, call, "malformed", codes.InvalidArgument, "ReportBaseInformation refused: "+p.String())
	}
	id := r.ids.issue(req.SystemId)
	r.protectBase(req)
	if r.cfg.Metrics.ZitadelInstanceInfo.Enabled && len(req.Instances) > 0 {
		md := instanceInfoMetrics(req, r.started, r.now())
		if err := r.consume(ctx, call, md); err != nil {
			return "", err
		}
	}
	r.calls.reportAccepted(ctx, call.Wire)
	return id, nil
}

// ReportResourceCounts implements telemetryservice.Handler.
func (r *telemetryReceiver) ReportResourceCounts(ctx context.Context, call telemetryservice.Call, req *analytics.ReportResourceCountsRequest) (string, error) {
	if p := checkResourceCounts(req); p.Count() > 0 {
		return "", r.refuse(ctx, call, "malformed", codes.InvalidArgument, "ReportResourceCounts refused: "+p.String())
	}
	id := req.GetReportId()
	if id == "" {
		// ZITADEL leaves the id out when the base information answered none;
		// the receiver always answers one, but a client may still start here.
		id = r.ids.issue(req.SystemId)
	} else if why := r.ids.verify(id, req.SystemId); why != "" {
		return "", r.refuse(ctx, call, "report_id", codes.FailedPrecondition, fmt.Sprintf("the report id %s", why))
	}
	r.protectCounts(req)
	if r.cfg.Metrics.ZitadelResourceCount.Enabled && len(req.ResourceCounts) > 0 {
		md := countMetrics(req, r.started, r.now(), r.cfg.UpdatedAtAttribute)
		if err := r.consume(ctx, call, md); err != nil {
			return "", err
		}
	}
	r.calls.pageAccepted(ctx, call.Wire, len(req.ResourceCounts))
	return id, nil
}

// consume hands md to the next consumer and says what to answer: a refusal
// for good cancels the report on ZITADEL's side; anything else (a refusing
// memory_limiter, a full queue) asks the client to try again.
func (r *telemetryReceiver) consume(ctx context.Context, call telemetryservice.Call, md pmetric.Metrics) error {
	obs := r.obs[call.Wire]
	points := md.DataPointCount()
	md = r.cfg.ResourceAttributes.RemoveDisabled(md)
	ctx = obs.StartMetricsOp(ctx)
	err := r.handOffs.Run(ctx, func(ctx context.Context) error { return r.next.ConsumeMetrics(ctx, md) })
	obs.EndMetricsOp(ctx, call.Format(), points, err)
	switch {
	case err == nil:
		return nil
	case consumererror.IsPermanent(err):
		return r.refuse(ctx, call, "pipeline_permanent", codes.InvalidArgument, "the pipeline refused the data for good: "+err.Error())
	default:
		return r.refuse(ctx, call, "pipeline_busy", codes.Unavailable, "the pipeline cannot take the data now, try again: "+err.Error())
	}
}

func (r *telemetryReceiver) refuse(ctx context.Context, call telemetryservice.Call, reason string, code codes.Code, msg string) error {
	r.Refused(ctx, call, reason, msg)
	return status.Error(code, msg)
}

// Refused implements telemetryservice.Handler.
func (r *telemetryReceiver) Refused(ctx context.Context, call telemetryservice.Call, reason, msg string) {
	r.calls.refused(ctx, call.Wire, reason)
	r.set.Logger.Debug("TelemetryService call refused", zap.String("wire", call.Wire), zap.String("reason", reason), zap.String("message", msg))
}
