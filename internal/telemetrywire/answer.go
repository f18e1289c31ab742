package telemetrywire

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// WriteReportID answers a successful call on an HTTP wire. Both responses are
// the same message on the wire (report_id = 1), and ZITADEL's client needs a
// body protojson can read: never an empty one.
func WriteReportID(w http.ResponseWriter, binary bool, reportID string) {
	if binary {
		out, _ := proto.Marshal(&analytics.ReportResourceCountsResponse{ReportId: reportID})
		w.Header().Set("Content-Type", "application/proto")
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(strconv.AppendQuote([]byte(`{"reportId":`), reportID))
	_, _ = w.Write([]byte("}"))
}

// WriteError answers the way each wire expects: ZITADEL's with the HTTP status
// of its contract and a plain-text body (plus Retry-After), Connect with its
// own status mapping and a JSON error whose details carry the retry delay.
func WriteError(w http.ResponseWriter, connect bool, code codes.Code, message string, retryAfter time.Duration) {
	if connect {
		type detail struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		body := struct {
			Code    string   `json:"code"`
			Message string   `json:"message,omitempty"`
			Details []detail `json:"details,omitempty"`
		}{Code: connectCodeName(code), Message: message}
		if retryAfter > 0 {
			raw, _ := proto.Marshal(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
			body.Details = []detail{{Type: "google.rpc.RetryInfo", Value: base64.RawStdEncoding.EncodeToString(raw)}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ConnectStatus(code))
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(ZITADELStatus(code))
	_, _ = io.WriteString(w, message)
}

// ZITADELStatus is the HTTP status of a code on ZITADEL's wire: its service
// ping stops on 400, 404, 409, 412 and 501 and retries everything else.
func ZITADELStatus(c codes.Code) int {
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

// ConnectStatus is the Connect protocol's HTTP status of a code.
func ConnectStatus(c codes.Code) int {
	switch c {
	case codes.Canceled:
		return 499
	case codes.FailedPrecondition:
		return http.StatusBadRequest
	}
	return ZITADELStatus(c)
}

// connectCodeNames are the Connect protocol's names of the codes
// (connectrpc.com/docs/protocol, "Error Codes"), written down here rather
// than taken from the client, so that a wrong name is not mirrored.
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
