package telemetryserver

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The paths this endpoint answers, written down here rather than taken from
// the client, so that a wrong path on either side fails the tests instead of
// being mirrored. ZITADEL's service ping appends /instances and
// /resource_counts to its configured endpoint (internal/serviceping/client.go);
// Connect addresses a method as /<package>.<Service>/<Method>.
const (
	zitadelPathBase   = "/instances"
	zitadelPathCounts = "/resource_counts"
	connectPathBase   = "/zitadel.analytics.v2beta.TelemetryService/ReportBaseInformation"
	connectPathCounts = "/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts"
)

// connectCodeNames are the Connect protocol's names of the codes
// (connectrpc.com/docs/protocol, "Error Codes").
var connectCodeNames = [...]string{
	codes.OK:                 "ok",
	codes.Canceled:           "canceled",
	codes.Unknown:            "unknown",
	codes.InvalidArgument:    "invalid_argument",
	codes.DeadlineExceeded:   "deadline_exceeded",
	codes.NotFound:           "not_found",
	codes.AlreadyExists:      "already_exists",
	codes.PermissionDenied:   "permission_denied",
	codes.ResourceExhausted:  "resource_exhausted",
	codes.FailedPrecondition: "failed_precondition",
	codes.Aborted:            "aborted",
	codes.OutOfRange:         "out_of_range",
	codes.Unimplemented:      "unimplemented",
	codes.Internal:           "internal",
	codes.Unavailable:        "unavailable",
	codes.DataLoss:           "data_loss",
	codes.Unauthenticated:    "unauthenticated",
}

func connectCodeName(c codes.Code) string {
	if int(c) < len(connectCodeNames) {
		return connectCodeNames[c]
	}
	return "unknown"
}

// maxBodyBytes bounds a request body after decompression.
const maxBodyBytes = 64 << 20

var requestJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// httpHandler serves both path styles. ZITADEL's own paths work under any
// prefix, since ZITADEL appends them to its configured endpoint.
func (s *Server) httpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transport, method := route(r.URL.Path)
		if method == "" {
			writeError(w, TransportHTTP, answer{code: codes.NotFound, message: "no TelemetryService method at " + r.URL.Path})
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := readBody(r)
		if err != nil {
			writeError(w, transport, answer{code: codes.InvalidArgument, message: err.Error()})
			return
		}
		binary := transport == TransportConnect && strings.HasPrefix(r.Header.Get("Content-Type"), "application/proto")
		var a answer
		if method == MethodBase {
			req := &analytics.ReportBaseInformationRequest{}
			if err := unmarshal(body, req, binary); err != nil {
				writeError(w, transport, answer{code: codes.InvalidArgument, message: err.Error()})
				return
			}
			a = s.handle(transport, req, nil)
		} else {
			req, err := decodeCounts(body, binary)
			if err != nil {
				writeError(w, transport, answer{code: codes.InvalidArgument, message: err.Error()})
				return
			}
			a = s.handle(transport, nil, req)
		}
		if a.code != codes.OK {
			writeError(w, transport, a)
			return
		}
		if binary {
			// Both responses are the same message on the wire: report_id = 1.
			out, _ := proto.Marshal(&analytics.ReportResourceCountsResponse{ReportId: a.reportID})
			w.Header().Set("Content-Type", "application/proto")
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(strconv.AppendQuote([]byte(`{"reportId":`), a.reportID))
		_, _ = w.Write([]byte("}"))
	})
}

func route(path string) (transport, method string) {
	switch {
	case strings.HasSuffix(path, connectPathBase):
		return TransportConnect, MethodBase
	case strings.HasSuffix(path, connectPathCounts):
		return TransportConnect, MethodCounts
	case strings.HasSuffix(path, zitadelPathBase):
		return TransportHTTP, MethodBase
	case strings.HasSuffix(path, zitadelPathCounts):
		return TransportHTTP, MethodCounts
	}
	return TransportHTTP, ""
}

func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("deflate body: %w", err)
		}
		body = zr
	case "zstd":
		zr, err := zstd.NewReader(r.Body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd body: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not supported", enc)
	}
	// Pages are megabytes: size the buffer once from Content-Length.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), maxBodyBytes)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(body, maxBodyBytes+1)); err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if buf.Len() > maxBodyBytes {
		return nil, fmt.Errorf("body larger than %d bytes", maxBodyBytes)
	}
	return buf.Bytes(), nil
}

func unmarshal(body []byte, m proto.Message, binary bool) error {
	if binary {
		return proto.Unmarshal(body, m)
	}
	return requestJSON.Unmarshal(body, m)
}

// writeError answers the way each wire expects: ZITADEL's with the HTTP status
// of its contract and a plain-text body (plus Retry-After), Connect with its
// own status mapping and a JSON error whose details carry the retry delay.
func writeError(w http.ResponseWriter, transport string, a answer) {
	if transport == TransportConnect {
		type detail struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		body := struct {
			Code    string   `json:"code"`
			Message string   `json:"message,omitempty"`
			Details []detail `json:"details,omitempty"`
		}{Code: connectCodeName(a.code), Message: a.message}
		if a.retryAfter > 0 {
			raw, _ := proto.Marshal(&errdetails.RetryInfo{RetryDelay: durationpb.New(a.retryAfter)})
			body.Details = []detail{{Type: "google.rpc.RetryInfo", Value: base64.RawStdEncoding.EncodeToString(raw)}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(connectStatus(a.code))
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(a.retryAfter.Seconds()))))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(zitadelStatus(a.code))
	_, _ = io.WriteString(w, a.message)
}

// zitadelStatus is the HTTP status of a code on ZITADEL's wire: its service
// ping stops on 400, 404, 409, 412 and 501 and retries everything else.
func zitadelStatus(c codes.Code) int {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.FailedPrecondition:
		return http.StatusPreconditionFailed
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// connectStatus is the Connect protocol's HTTP status of a code.
func connectStatus(c codes.Code) int {
	switch c {
	case codes.Canceled:
		return 499
	case codes.FailedPrecondition:
		return http.StatusBadRequest
	}
	return zitadelStatus(c)
}
