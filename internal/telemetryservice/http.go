package telemetryservice

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetrywire"
)

// HTTPOptions lays out the HTTP paths.
type HTTPOptions struct {
	// Path is the base path every call is under; "" and "/" mean the root.
	Path string
	// Secret, when set, is the path segment after Path that every call must
	// carry: ZITADEL's client cannot authenticate otherwise. A call without it
	// is answered exactly like a path that does not exist.
	Secret string
	// MaxBodyBytes is the most a body may have: the limit the server
	// enforces (max_request_body_size), enforced here again so that the
	// handler never reads more whatever server it is given to.
	MaxBodyBytes int64
	Decoding
}

// The methods under the base path. ZITADEL appends the first two to its
// configured endpoint; the Connect paths are the full gRPC method names.
const (
	pathInstances      = "/instances"
	pathResourceCounts = "/resource_counts"
)

type route struct {
	connect bool
	counts  bool
}

var routes = map[string]route{
	pathInstances:      {},
	pathResourceCounts: {counts: true},
	analytics.TelemetryService_ReportBaseInformation_FullMethodName: {connect: true},
	analytics.TelemetryService_ReportResourceCounts_FullMethodName:  {connect: true, counts: true},
}

type httpService struct {
	handler   Handler
	decoding  Decoding
	base      string
	secretSum [sha256.Size]byte
	secret    bool
	maxBody   int64
}

// NewHTTPHandler serves ZITADEL's wire and the Connect paths under opts.Path.
func NewHTTPHandler(h Handler, opts HTTPOptions) http.Handler {
	s := &httpService{handler: h, decoding: opts.Decoding, base: strings.TrimSuffix(opts.Path, "/"), maxBody: opts.MaxBodyBytes}
	if opts.Secret != "" {
		s.secret, s.secretSum = true, sha256.Sum256([]byte(opts.Secret))
	}
	return s
}

// match finds the method of path. The secret is compared through its hash,
// in constant time and without revealing its length.
func (s *httpService) match(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, s.base)
	if !ok {
		return route{}, false
	}
	if s.secret {
		segment, after, found := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		if !strings.HasPrefix(rest, "/") || !found {
			return route{}, false
		}
		sum := sha256.Sum256([]byte(segment))
		if subtle.ConstantTimeCompare(sum[:], s.secretSum[:]) != 1 {
			return route{}, false
		}
		rest = "/" + after
	}
	// ZITADEL concatenates: an endpoint configured with a trailing slash
	// yields //instances.
	if strings.HasPrefix(rest, "//") {
		rest = rest[1:]
	}
	rt, ok := routes[rest]
	return rt, ok
}

func (s *httpService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.match(r.URL.Path)
	if !ok {
		call := Call{Wire: wireByPath(r.URL.Path)}
		s.handler.Refused(r.Context(), call, ReasonNotFound, "no TelemetryService path")
		http.NotFound(w, r)
		return
	}
	call := Call{Wire: httpWire(rt.connect)}
	if r.Method != http.MethodPost {
		s.handler.Refused(r.Context(), call, ReasonMethod, r.Method+" instead of POST")
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is served here", http.StatusMethodNotAllowed)
		return
	}
	binary, supported := bodyType(r.Header.Get("Content-Type"), rt.connect)
	if !supported {
		msg := fmt.Sprintf("Content-Type %q is not served here; send application/json", r.Header.Get("Content-Type"))
		s.handler.Refused(r.Context(), call, ReasonContentType, msg)
		http.Error(w, msg, http.StatusUnsupportedMediaType)
		return
	}
	call.Binary = binary
	if r.ContentLength > s.maxBody {
		tooLargeBody(s.handler, w, r, call, declaredTooLarge(r.ContentLength, s.maxBody))
		return
	}
	held := &charge{of: s.decoding.InFlight}
	defer held.release()
	body, err := readBody(w, r, s.maxBody, held)
	if err != nil {
		var tooLarge *http.MaxBytesError
		var busy *inFlightError
		switch {
		case errors.As(err, &tooLarge):
			tooLargeBody(s.handler, w, r, call, err.Error())
		case errors.As(err, &busy):
			s.busy(w, r, call, busy.Error())
		default:
			s.malformed(w, r, call, err.Error())
		}
		return
	}
	defer func() {
		if body != nil {
			releaseBody(body)
		}
	}()
	cost, reason, msg := s.decoding.admit(body, binary, rt.counts, held, int64(cap(body)))
	switch reason {
	case ReasonUnknownSystem:
		s.handler.Refused(r.Context(), call, ReasonUnknownSystem, msg)
		telemetrywire.WriteError(w, rt.connect, codes.PermissionDenied, msg, 0)
		return
	case ReasonMalformed:
		s.malformed(w, r, call, msg)
		return
	case ReasonInFlight:
		s.busy(w, r, call, msg)
		return
	}
	// Both decoders copy what they keep: the body goes back to its pool
	// once decoded, before the handler builds and hands on the metrics.
	decoded := func() {
		releaseBody(body)
		body = nil
		_ = held.to(cost) // less than held: never refused
	}
	id, err := s.decodeAndHandle(r, call, rt.counts, body, decoded)
	if err != nil {
		code, msg := statusOf(err)
		telemetrywire.WriteError(w, rt.connect, code, msg, 0)
		return
	}
	telemetrywire.WriteReportID(w, binary, id)
}

// decodeAndHandle decodes a body and hands it to the Handler; a body that
// does not decode is refused as malformed.
func (s *httpService) decodeAndHandle(r *http.Request, call Call, counts bool, body []byte, decoded func()) (string, error) {
	if counts {
		req, err := s.decoding.counts(body, call.Binary)
		decoded()
		if err != nil {
			return "", refuseMalformed(r.Context(), s.handler, call, "the body is not a ReportResourceCountsRequest: "+err.Error())
		}
		return s.handler.ReportResourceCounts(r.Context(), call, req)
	}
	req := &analytics.ReportBaseInformationRequest{}
	err := telemetrywire.Unmarshal(body, req, call.Binary)
	decoded()
	if err != nil {
		return "", refuseMalformed(r.Context(), s.handler, call, "the body is not a ReportBaseInformationRequest: "+err.Error())
	}
	return s.handler.ReportBaseInformation(r.Context(), call, req)
}

// busy answers a call the bytes in flight leave no room for, before its
// body was read whole or decoded: 429 with Retry-After (Connect: with the
// delay in a RetryInfo), which every client of the service retries.
func (s *httpService) busy(w http.ResponseWriter, r *http.Request, call Call, msg string) {
	s.handler.Refused(r.Context(), call, ReasonInFlight, msg)
	telemetrywire.WriteError(w, call.Wire == WireConnect, codes.ResourceExhausted, msg, RetryAfter)
}

func (s *httpService) malformed(w http.ResponseWriter, r *http.Request, call Call, msg string) {
	s.handler.Refused(r.Context(), call, ReasonMalformed, msg)
	telemetrywire.WriteError(w, call.Wire == WireConnect, codes.InvalidArgument, msg, 0)
}

// tooLargeBody answers a body over the limit as proxies do, 413 (Connect:
// resource_exhausted, what Connect servers answer for an oversized message),
// at once when its length was declared: the rest of it is never read, so
// the connection closes after the answer.
func tooLargeBody(h Handler, w http.ResponseWriter, r *http.Request, call Call, msg string) {
	h.Refused(r.Context(), call, ReasonTooLarge, msg)
	w.Header().Set("Connection", "close")
	if call.Wire == WireConnect {
		telemetrywire.WriteError(w, true, codes.ResourceExhausted, msg, 0)
		return
	}
	http.Error(w, msg, http.StatusRequestEntityTooLarge)
}

func declaredTooLarge(declared, maxBody int64) string {
	return fmt.Sprintf("the body declares %d bytes, more than %d, the receiver's max_request_body_size", declared, maxBody)
}

// RefuseDeclaredOverLimit answers a request whose Content-Length declares
// more than maxBody bytes with 413 (Connect: resource_exhausted) before
// next runs, and closes its connection unread, whatever its path; h counts
// the refusal. Wrap the server's outermost handler with it: the collector's
// decompression middleware forgets the declared length of a compressed
// body, and its gzip and zlib readers wait for the body's first bytes
// before any handler inside it runs. Telling the wire by the path's end
// alone, it says nothing about the path secret.
func RefuseDeclaredOverLimit(h Handler, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			tooLargeBody(h, w, r, Call{Wire: wireByPath(r.URL.Path)}, declaredTooLarge(r.ContentLength, maxBody))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bodyType says whether a body of this Content-Type is protobuf, and whether
// the wire takes it at all. ZITADEL's client always sends application/json,
// so a call without a Content-Type is not ZITADEL's and is refused.
func bodyType(contentType string, connect bool) (binary, supported bool) {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, false
	}
	switch media {
	case "application/json":
		return false, true
	case "application/proto":
		return true, connect
	}
	return false, false
}

// wireByPath is the wire of a call whose path is not known to be the
// service's, told by the path's end alone: the secret is not compared, nor
// named.
func wireByPath(path string) string {
	return httpWire(strings.Contains(path, "/"+analytics.TelemetryService_ServiceDesc.ServiceName+"/"))
}

// httpWire is the wire of a call over HTTP: Connect's paths, or ZITADEL's.
func httpWire(connect bool) string {
	if connect {
		return WireConnect
	}
	return WireZITADEL
}
