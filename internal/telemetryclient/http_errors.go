package telemetryclient

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
)

var answerJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// classifyHTTP is the one place that judges an HTTP answer of the telemetry
// endpoint, for ZITADEL's wire and for Connect alike. Success is HTTP 200 with
// a JSON body, decoded into out, exactly as ZITADEL's own client requires.
// A redirect is a RedirectError, never followed and never retried: the same
// request will be redirected again. Anything else becomes a StatusError: the code comes from a Connect error body
// when there is one ({"code":"failed_precondition",...}: Connect answers 400
// for several codes), otherwise from the HTTP status. The delay comes from the
// Retry-After header or a Connect google.rpc.RetryInfo detail.
func classifyHTTP(status int, header http.Header, body []byte, out proto.Message) error {
	if status == http.StatusOK {
		if err := answerJSON.Unmarshal(body, out); err != nil {
			// ZITADEL retries an answer it cannot read; so does the exporter.
			return &StatusError{Code: codes.Unknown, HTTPStatus: status, Message: "the answer is not a JSON " +
				string(out.ProtoReflect().Descriptor().Name()) + ": " + err.Error()}
		}
		return nil
	}
	if status >= 300 && status < 400 {
		return consumererror.NewPermanent(&RedirectError{HTTPStatus: status, Location: header.Get("Location")})
	}
	se := &StatusError{Code: codeForHTTPStatus(status), HTTPStatus: status, Message: shorten(body)}
	retryAfter := parseRetryAfter(header.Get("Retry-After"), time.Now())
	if ce, ok := parseConnectError(body); ok {
		se.Code, se.Message = ce.code, ce.message
		retryAfter = max(retryAfter, ce.retryDelay)
	}
	return withRetryPolicy(se, retryAfter)
}

// codeForHTTPStatus reads a status the way ZITADEL's service ping maps its
// contract to HTTP (400, 404, 409, 412, 501 stop; the rest is retried), with
// the usual gRPC-over-HTTP meanings for the statuses ZITADEL does not name.
func codeForHTTPStatus(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusConflict:
		return codes.AlreadyExists
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	switch {
	case status >= 400 && status < 500:
		// Any other refusal of the request as sent (405, 413, 415, ...).
		return codes.InvalidArgument
	case status >= 500:
		return codes.Internal
	default:
		// 1xx and 2xx other than 200: not an answer ZITADEL accepts either.
		return codes.Unknown
	}
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

type connectError struct {
	code       codes.Code
	message    string
	retryDelay time.Duration
}

// parseConnectError reads a Connect unary error body.
func parseConnectError(body []byte) (connectError, bool) {
	if len(body) == 0 || body[0] != '{' {
		return connectError{}, false
	}
	var wire struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &wire) != nil {
		return connectError{}, false
	}
	code, ok := connectCodes[wire.Code]
	if !ok {
		return connectError{}, false
	}
	ce := connectError{code: code, message: shorten([]byte(wire.Message))}
	for _, d := range wire.Details {
		if strings.TrimPrefix(d.Type, "type.googleapis.com/") != "google.rpc.RetryInfo" {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			continue
		}
		var ri errdetails.RetryInfo
		if proto.Unmarshal(raw, &ri) == nil {
			ce.retryDelay = ri.GetRetryDelay().AsDuration()
		}
	}
	return ce, true
}

// shorten keeps an error body readable in a log line. The endpoint's words
// may echo the request and its headers, so they go through the same
// redaction as every other remote answer.
func shorten(body []byte) string {
	const scanned = 4 << 10
	s := remotetext.Redact(strings.ToValidUTF8(string(body[:min(len(body), scanned)]), "?"))
	if len(body) > scanned && !strings.HasSuffix(s, "...") {
		s += "..."
	}
	return s
}

// RedirectError is a telemetry endpoint that answered with a redirect. The
// exporter does not follow it: the report, the path secret and the configured
// headers go only where the configuration says.
type RedirectError struct {
	HTTPStatus int
	Location   string // as the endpoint sent it
}

func (e *RedirectError) Error() string {
	to := "elsewhere"
	if e.Location != "" {
		to = fmt.Sprintf("to %q", remotetext.URL(e.Location))
	}
	return fmt.Sprintf("telemetry endpoint answered HTTP %d redirecting %s, which the exporter does not follow: "+
		"set endpoint to the address that serves the reports", e.HTTPStatus, to)
}
