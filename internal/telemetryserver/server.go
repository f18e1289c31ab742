// Package telemetryserver is a reference ZITADEL TelemetryService endpoint on
// loopback, for tests, benchmarks and the demo. One HTTP listener serves
// ZITADEL's own wire ({base}/instances, {base}/resource_counts) and the Connect
// paths (/zitadel.analytics.v2beta.TelemetryService/<Method>); one gRPC
// listener serves the service itself.
//
// It behaves like the real endpoint is specified to: report ids are bound to
// the system id, an unknown, foreign or expired id is answered with
// FAILED_PRECONDITION (HTTP 412), and re-sent rows are deduplicated on
// (instance, parent type, parent id, table, resource). It keeps every request
// and the deduplicated state per system, and can be told to be slow, to fail,
// and to ask for a delay before the next attempt.
package telemetryserver

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetrywire"
)

// Options configures a Server.
type Options struct {
	// ReportTTL is how long a report id stays valid after it was issued;
	// zero means 24 hours.
	ReportTTL time.Duration
	// DropRequests keeps no per-request record (Requests returns nothing), only
	// the deduplicated state: for benchmarks that send millions of rows.
	DropRequests bool
	// Faults, when set, fails a share of the calls on every transport at random.
	Faults *faults.Injector
}

// Transports, as recorded in Request.Transport.
const (
	TransportHTTP    = "http"
	TransportConnect = "connect"
	TransportGRPC    = "grpc"
)

// Methods, as recorded in Request.Method.
const (
	MethodBase   = "ReportBaseInformation"
	MethodCounts = "ReportResourceCounts"
)

// Request is one call the server answered.
type Request struct {
	Transport string
	Method    string
	Received  time.Time
	// Exactly one of Base and Counts is set, after Method.
	Base   *analytics.ReportBaseInformationRequest
	Counts *analytics.ReportResourceCountsRequest
	// Code is what was answered: codes.OK or the error.
	Code codes.Code
	// ReportID is the report id answered on success.
	ReportID string
}

// Server is the reference endpoint. The zero value is not usable; use New.
type Server struct {
	opts Options

	mu         sync.Mutex
	state      *state
	failures   int
	failCode   codes.Code
	retryAfter time.Duration
	latency    time.Duration

	// tls, when set, is served on both listeners from the next Start.
	tls *tls.Config

	httpListener net.Listener
	grpcListener net.Listener
	httpServer   *http.Server
	grpcServer   *grpc.Server
	serving      sync.WaitGroup
}

// New returns a server that is not listening yet.
func New(opts Options) *Server {
	if opts.ReportTTL <= 0 {
		opts.ReportTTL = 24 * time.Hour
	}
	return &Server{opts: opts, state: newState(opts)}
}

// Start listens on httpAddr (both HTTP path styles) and grpcAddr; either may
// be empty to leave that listener out. Use "127.0.0.1:0" for a free port.
func (s *Server) Start(httpAddr, grpcAddr string) error {
	if httpAddr != "" {
		ln, err := net.Listen("tcp", httpAddr)
		if err != nil {
			return err
		}
		ln = s.opts.Faults.Listen(ln)
		if s.tls != nil {
			ln = tlsListener(ln, s.tls, "http/1.1")
		}
		s.httpListener = ln
		s.httpServer = &http.Server{Handler: s.opts.Faults.HTTP(s.httpHandler()), ReadHeaderTimeout: 10 * time.Second}
		s.serving.Go(func() { _ = s.httpServer.Serve(ln) })
	}
	if grpcAddr != "" {
		ln, err := net.Listen("tcp", grpcAddr)
		if err != nil {
			s.Close()
			return err
		}
		ln = s.opts.Faults.Listen(ln)
		if s.tls != nil {
			ln = tlsListener(ln, s.tls, "h2")
		}
		s.grpcListener = ln
		opts := []grpc.ServerOption{grpc.ForceServerCodecV2(telemetrywire.NewCountsCodec())}
		if s.opts.Faults != nil {
			opts = append(opts, grpc.UnaryInterceptor(s.opts.Faults.Unary))
		}
		s.grpcServer = grpc.NewServer(opts...)
		analytics.RegisterTelemetryServiceServer(s.grpcServer, &grpcService{server: s})
		s.serving.Go(func() { _ = s.grpcServer.Serve(ln) })
	}
	return nil
}

// HTTPURL is the base URL of the HTTP listener, e.g. http://127.0.0.1:41234.
// ZITADEL's wire works under any path prefix: HTTPURL()+"/api/ping" is fine.
func (s *Server) HTTPURL() string {
	if s.httpListener == nil {
		return ""
	}
	if s.tls != nil {
		return "https://" + s.httpListener.Addr().String()
	}
	return "http://" + s.httpListener.Addr().String()
}

// SetTLS serves cfg (nil: plaintext) on both listeners from the next Start:
// a test changes a stopped server's certificate and starts it again on the
// same addresses.
func (s *Server) SetTLS(cfg *tls.Config) { s.tls = cfg }

// tlsListener serves cfg on ln with one application protocol: HTTP/1.1 for
// the HTTP wires, h2 for gRPC, which grpc-go clients require through ALPN.
func tlsListener(ln net.Listener, cfg *tls.Config, proto string) net.Listener {
	cfg = cfg.Clone()
	cfg.NextProtos = []string{proto}
	return tls.NewListener(ln, cfg)
}

// GRPCAddr is the host:port of the gRPC listener.
func (s *Server) GRPCAddr() string {
	if s.grpcListener == nil {
		return ""
	}
	return s.grpcListener.Addr().String()
}

// Close stops both listeners and drops open connections.
func (s *Server) Close() error {
	var err error
	if s.httpServer != nil {
		err = s.httpServer.Close()
	}
	if s.grpcServer != nil {
		s.grpcServer.Stop()
	}
	s.serving.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Fail makes the next n calls, on any transport and method, fail with code.
func (s *Server) Fail(n int, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures, s.failCode = n, code
}

// SetRetryAfter makes the failures injected by Fail ask the client to wait d:
// a Retry-After header on ZITADEL's wire, a google.rpc.RetryInfo detail over
// Connect and gRPC. Zero asks for nothing.
func (s *Server) SetRetryAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = d
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ExpireNext makes the next n report ids issued expired on arrival, so the
// first ReportResourceCounts that carries one is answered FAILED_PRECONDITION.
func (s *Server) ExpireNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.expireNext = n
}

// RotateReportIDs makes every ReportResourceCounts answer carry a new report id
// and retire the one it was sent with; a client that does not switch to the
// new id gets FAILED_PRECONDITION on its next page.
func (s *Server) RotateReportIDs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.rotate = on
}

// Requests returns every call answered so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.state.requests...)
}

// PagesTaken is the number of ReportResourceCounts calls answered OK and
// the rows they carried, re-sent ones included.
func (s *Server) PagesTaken() (pages, rows int) {
	for _, r := range s.Requests() {
		if r.Method == MethodCounts && r.Code == codes.OK {
			pages++
			rows += len(r.Counts.GetResourceCounts())
		}
	}
	return pages, rows
}

// Reset forgets all requests, reports and systems; the switches stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = newState(s.opts)
}

// Forget drops what the server holds for one system (its rows, instances and
// report count), so that the next report of that system is checked on its
// own while other systems' reports go on.
func (s *Server) Forget(systemID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.state.systems, systemID)
}

// answer is the outcome of one call, whatever the transport.
type answer struct {
	reportID   string
	code       codes.Code
	message    string
	retryAfter time.Duration
}

// handle is where every transport ends: injected faults first, then the
// report logic. Decoding happened before, outside the lock.
func (s *Server) handle(transport string, base *analytics.ReportBaseInformationRequest, counts *analytics.ReportResourceCountsRequest) answer {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var a answer
	switch {
	case s.failures > 0:
		s.failures--
		a = answer{code: s.failCode, message: "injected failure", retryAfter: s.retryAfter}
	case base != nil:
		a = s.state.reportBase(base)
	default:
		a = s.state.reportCounts(counts)
	}
	s.state.record(transport, base, counts, a)
	return a
}
