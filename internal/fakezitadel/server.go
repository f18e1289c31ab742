package fakezitadel

import (
	"crypto/rsa"
	"crypto/tls"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/faults"
	actionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/action/v2"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	orgpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	sessionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/session/v2"
	systempb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

// Options configure who may call the server.
type Options struct {
	// PATs are accepted personal access tokens, each mapped to the id of the
	// instance its user belongs to ("" for the first instance).
	PATs map[string]string
	// WithoutMembership are personal access tokens (keys of PATs) of users
	// that hold no role at all: ZITADEL answers their calls NOT_FOUND
	// "membership not found (AUTHZ-cdgFk)", not PERMISSION_DENIED.
	WithoutMembership []string
	// ServiceKeys are the public keys of service users that exchange a
	// signed JWT for an access token at /oauth/v2/token.
	ServiceKeys []ServiceKey
	// SystemUsers are the public keys of system API users by user id. Their
	// self-signed tokens are valid in every instance and in the system API.
	SystemUsers map[string]*rsa.PublicKey
	// Issuer is the external URL every JWT must name as audience; when empty
	// it is "http://" + GRPCAddr(), what a client derives from a plaintext endpoint.
	Issuer string
	// TokenLifetime of exchanged access tokens; 12 hours when zero.
	TokenLifetime time.Duration
	// Latency delays every call.
	Latency time.Duration
	// TLS, when set, is served on the gRPC listener.
	TLS *tls.Config
	// Faults, when set, fails a share of the gRPC calls at random.
	Faults *faults.Injector
	// Tamper, when set, changes every answer in place before it is sent, by
	// the call's full method: a broken or hostile ZITADEL (impossible totals,
	// ids of any shape, answers of any size).
	Tamper func(fullMethod string, answer any)
}

// ServiceKey is a service user's key registered with an instance.
type ServiceKey struct {
	UserID     string
	KeyID      string
	PublicKey  *rsa.PublicKey
	InstanceID string // "" for the first instance
}

// Server serves a Dataset over gRPC, and the token endpoint over HTTP.
type Server struct {
	ds   *Dataset
	opts Options

	hostIndex map[string]*Instance
	keys      map[string]ServiceKey

	grpcServer *grpc.Server
	grpcLis    net.Listener
	httpServer *http.Server
	httpLis    net.Listener
	issuer     string
	serving    sync.WaitGroup

	latency                atomic.Int64 // nanoseconds
	calls                  map[string]*atomic.Int64
	total                  atomic.Int64
	inFlight, peakInFlight atomic.Int64
	exchanges              atomic.Int64

	// data guards the dataset: calls read it, Write changes it. A call
	// waits for a write in flight, as ZITADEL's ListEvents does.
	data sync.RWMutex

	mu          sync.RWMutex
	tokens      map[string]issuedToken
	faults      map[string]*fault // by full method, "" for every method
	denied      map[string]bool   // full methods answered with PERMISSION_DENIED
	authFailure codes.Code        // when not OK, every call fails with it
	vanished    map[string]bool   // organization ids listed but deleted
	zeroLimits  []string
	retention   retention
}

type issuedToken struct {
	instanceID string
	expires    time.Time
}

type fault struct {
	code      codes.Code
	delay     time.Duration // sent as a google.rpc.RetryInfo detail when set
	after     int           // calls answered before the failures start
	remaining int           // < 0: every call
}

// Every method the server answers, for the call counters.
var methods = []string{
	adminpb.AdminService_GetMyInstance_FullMethodName,
	adminpb.AdminService_ListIAMMembers_FullMethodName,
	adminpb.AdminService_ListProviders_FullMethodName,
	adminpb.AdminService_GetLoginPolicy_FullMethodName,
	adminpb.AdminService_GetPasswordComplexityPolicy_FullMethodName,
	adminpb.AdminService_GetPasswordAgePolicy_FullMethodName,
	adminpb.AdminService_GetLockoutPolicy_FullMethodName,
	adminpb.AdminService_GetNotificationPolicy_FullMethodName,
	adminpb.AdminService_ListEvents_FullMethodName,
	adminpb.AdminService_ListMilestones_FullMethodName,
	mgmtpb.ManagementService_ListProjects_FullMethodName,
	mgmtpb.ManagementService_ListApps_FullMethodName,
	mgmtpb.ManagementService_ListUserGrants_FullMethodName,
	mgmtpb.ManagementService_ListProviders_FullMethodName,
	mgmtpb.ManagementService_ListActions_FullMethodName,
	mgmtpb.ManagementService_ListOrgDomains_FullMethodName,
	mgmtpb.ManagementService_GetLoginPolicy_FullMethodName,
	mgmtpb.ManagementService_GetPasswordComplexityPolicy_FullMethodName,
	mgmtpb.ManagementService_GetPasswordAgePolicy_FullMethodName,
	mgmtpb.ManagementService_GetLockoutPolicy_FullMethodName,
	mgmtpb.ManagementService_GetNotificationPolicy_FullMethodName,
	orgpb.OrganizationService_ListOrganizations_FullMethodName,
	userpb.UserService_ListUsers_FullMethodName,
	sessionpb.SessionService_ListSessions_FullMethodName,
	actionpb.ActionService_ListTargets_FullMethodName,
	actionpb.ActionService_ListExecutions_FullMethodName,
	systempb.SystemService_ListInstances_FullMethodName,
}

// NewServer prepares a server for ds; Start makes it listen.
func NewServer(ds *Dataset, opts Options) *Server {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 12 * time.Hour
	}
	s := &Server{
		ds:        ds,
		opts:      opts,
		hostIndex: make(map[string]*Instance),
		keys:      make(map[string]ServiceKey, len(opts.ServiceKeys)),
		calls:     make(map[string]*atomic.Int64, len(methods)),
		tokens:    make(map[string]issuedToken),
		faults:    make(map[string]*fault),
		denied:    make(map[string]bool),
		vanished:  make(map[string]bool),
	}
	s.latency.Store(int64(opts.Latency))
	for _, in := range ds.Instances {
		for _, d := range in.Domains {
			s.hostIndex[d.Name] = in
		}
	}
	for _, k := range opts.ServiceKeys {
		s.keys[k.KeyID] = k
	}
	for _, m := range methods {
		s.calls[m] = new(atomic.Int64)
	}
	return s
}

// Start listens on grpcAddr and, unless httpAddr is empty, serves the token
// endpoint on httpAddr. Use "127.0.0.1:0" for a free port.
func (s *Server) Start(grpcAddr, httpAddr string) error {
	lis, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return err
	}
	lis = s.opts.Faults.Listen(lis)
	if s.opts.TLS != nil {
		cfg := s.opts.TLS.Clone()
		cfg.NextProtos = []string{"h2"} // grpc-go clients require it through ALPN
		lis = tls.NewListener(lis, cfg)
	}
	s.grpcLis = lis
	s.issuer = s.opts.Issuer
	if s.issuer == "" {
		s.issuer = "http://" + lis.Addr().String()
	}
	interceptors := []grpc.UnaryServerInterceptor{s.intercept}
	if s.opts.Faults != nil {
		interceptors = []grpc.UnaryServerInterceptor{s.opts.Faults.Unary, s.intercept}
	}
	if s.opts.Tamper != nil {
		interceptors = append([]grpc.UnaryServerInterceptor{s.tamper}, interceptors...)
	}
	s.grpcServer = grpc.NewServer(grpc.ChainUnaryInterceptor(interceptors...))
	adminpb.RegisterAdminServiceServer(s.grpcServer, adminService{s: s})
	mgmtpb.RegisterManagementServiceServer(s.grpcServer, managementService{s: s})
	orgpb.RegisterOrganizationServiceServer(s.grpcServer, orgService{s: s})
	userpb.RegisterUserServiceServer(s.grpcServer, userService{s: s})
	sessionpb.RegisterSessionServiceServer(s.grpcServer, sessionService{s: s})
	actionpb.RegisterActionServiceServer(s.grpcServer, actionService{s: s})
	systempb.RegisterSystemServiceServer(s.grpcServer, systemService{s: s})
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		_ = s.grpcServer.Serve(lis)
	}()

	if httpAddr == "" {
		return nil
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		s.Close()
		return err
	}
	s.httpLis = hl
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/v2/token", s.serveToken)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		_ = s.httpServer.Serve(hl)
	}()
	return nil
}

// Close stops both listeners and waits for them.
func (s *Server) Close() {
	if s.httpServer != nil {
		_ = s.httpServer.Close()
	}
	if s.grpcServer != nil {
		s.grpcServer.Stop()
	}
	s.serving.Wait()
}

// SetTLS serves cfg (nil: plaintext) from the next Start: a test changes a
// stopped server's certificate and starts it again on the same address.
func (s *Server) SetTLS(cfg *tls.Config) { s.opts.TLS = cfg }

// Dataset is what the server answers from.
func (s *Server) Dataset() *Dataset { return s.ds }

// GRPCAddr is the gRPC listener's host:port.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the token endpoint listener's host:port, empty without one.
func (s *Server) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// TokenURL is the OAuth token endpoint.
func (s *Server) TokenURL() string { return "http://" + s.HTTPAddr() + "/oauth/v2/token" }

// Issuer is the audience JWTs must carry.
func (s *Server) Issuer() string { return s.issuer }

// SetLatency changes the delay of every call.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// FailCalls makes the next n calls of method (a full gRPC method name, or ""
// for any) fail with code; n < 0 fails every call until cleared with n = 0.
func (s *Server) FailCalls(method string, code codes.Code, n int) {
	s.setFault(method, n, fault{code: code, remaining: n})
}

// FailCallsWithRetryDelay is FailCalls with a google.rpc.RetryInfo detail
// naming the delay before the next attempt, as a rate limiter may send.
func (s *Server) FailCallsWithRetryDelay(method string, code codes.Code, n int, delay time.Duration) {
	s.setFault(method, n, fault{code: code, remaining: n, delay: delay})
}

// FailCallsAfter is FailCalls after the next `after` calls of method have
// been answered.
func (s *Server) FailCallsAfter(method string, code codes.Code, after, n int) {
	s.setFault(method, n, fault{code: code, remaining: n, after: after})
}

// setFault stores f for method, whole under one lock; n = 0 clears it.
func (s *Server) setFault(method string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == 0 {
		delete(s.faults, method)
		return
	}
	s.faults[method] = &f
}

// Deny answers method with PERMISSION_DENIED, as for a user lacking the role.
func (s *Server) Deny(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[method] = true
}

// SetAuthFailure makes every call fail with code (UNAUTHENTICATED, say);
// codes.OK switches it off.
func (s *Server) SetAuthFailure(code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authFailure = code
}

// RevokeTokens forgets every exchanged access token, as if they had expired.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// VanishOrg keeps listing the organization but answers NOT_FOUND for it, as
// for an organization deleted between listing and counting.
func (s *Server) VanishOrg(orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vanished[orgID] = true
}

// Calls returns how often method was called.
func (s *Server) Calls(method string) int64 {
	if c, ok := s.calls[method]; ok {
		return c.Load()
	}
	return 0
}

// TotalCalls counts every gRPC call, failed ones included.
func (s *Server) TotalCalls() int64 { return s.total.Load() }

// PeakInFlight is the most calls that were ever being answered at once.
func (s *Server) PeakInFlight() int64 { return s.peakInFlight.Load() }

// TokenExchanges counts the successful JWT-profile exchanges.
func (s *Server) TokenExchanges() int64 { return s.exchanges.Load() }

// ZeroLimitRequests lists the calls that sent no limit, sorted. On v1 and
// object.v2 lists ZITADEL reads that as "every row", which a counting client
// must never ask for.
func (s *Server) ZeroLimitRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.zeroLimits...)
	sort.Strings(out)
	return out
}

// ResetStats zeroes the call counters and the zero-limit record.
func (s *Server) ResetStats() {
	for _, c := range s.calls {
		c.Store(0)
	}
	s.total.Store(0)
	s.peakInFlight.Store(0)
	s.exchanges.Store(0)
	s.mu.Lock()
	s.zeroLimits = nil
	s.mu.Unlock()
}
