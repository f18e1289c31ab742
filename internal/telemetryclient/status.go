package telemetryclient

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"google.golang.org/grpc/codes"
)

// StatusError is a refusal by the telemetry endpoint, expressed as a gRPC code
// whatever the transport, so that one table decides what happens next.
type StatusError struct {
	Code       codes.Code
	HTTPStatus int    // 0 over gRPC
	Message    string // what the server said, shortened
	// RetryAfter is the delay the server asked for before the next attempt.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("telemetry endpoint answered HTTP %d (%s): %s", e.HTTPStatus, codeName(e.Code), e.Message)
	}
	return fmt.Sprintf("telemetry endpoint answered %s: %s", codeName(e.Code), e.Message)
}

// IsReportExpired reports whether err says the report id is unknown, belongs to
// another system or is too old (FAILED_PRECONDITION, HTTP 412): the report has
// to start again with a fresh ReportBaseInformation.
func IsReportExpired(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == codes.FailedPrecondition
}

// CodeOf returns the code the endpoint answered, or codes.Unknown when err did
// not come from the endpoint (a transport failure, say).
func CodeOf(err error) codes.Code {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return codes.Unknown
}

// withRetryPolicy applies the TelemetryService's error contract. A code that
// says the same request will never succeed is permanent: the request was
// malformed or refused (INVALID_ARGUMENT, OUT_OF_RANGE, ALREADY_EXISTS), the
// endpoint is wrong (NOT_FOUND, UNIMPLEMENTED), the credentials are wrong
// (UNAUTHENTICATED, PERMISSION_DENIED), or the report id is no longer valid
// (FAILED_PRECONDITION; the exporter restarts the report once before giving
// up). Everything else (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
// INTERNAL, ABORTED, UNKNOWN, DATA_LOSS, CANCELED) is retried, no sooner than
// the server asked. On ZITADEL's HTTP wire only the status arrives, and
// codeForHTTPStatus reads 409 as ALREADY_EXISTS: an ABORTED sent as 409 is
// final there, as it is for ZITADEL's own client.
func withRetryPolicy(se *StatusError, retryAfter time.Duration) error {
	se.RetryAfter = retryAfter
	switch se.Code {
	case codes.InvalidArgument, codes.OutOfRange, codes.AlreadyExists,
		codes.NotFound, codes.Unimplemented,
		codes.Unauthenticated, codes.PermissionDenied,
		codes.FailedPrecondition:
		return consumererror.NewPermanent(se)
	}
	if retryAfter > 0 {
		return exporterhelper.NewThrottleRetry(se, retryAfter)
	}
	return se
}

// connectCodes are the Connect protocol's names of the gRPC codes.
var connectCodes = map[string]codes.Code{
	"canceled":            codes.Canceled,
	"unknown":             codes.Unknown,
	"invalid_argument":    codes.InvalidArgument,
	"deadline_exceeded":   codes.DeadlineExceeded,
	"not_found":           codes.NotFound,
	"already_exists":      codes.AlreadyExists,
	"permission_denied":   codes.PermissionDenied,
	"resource_exhausted":  codes.ResourceExhausted,
	"failed_precondition": codes.FailedPrecondition,
	"aborted":             codes.Aborted,
	"out_of_range":        codes.OutOfRange,
	"unimplemented":       codes.Unimplemented,
	"internal":            codes.Internal,
	"unavailable":         codes.Unavailable,
	"data_loss":           codes.DataLoss,
	"unauthenticated":     codes.Unauthenticated,
}

// connectCodeName returns the Connect protocol's name of c.
func connectCodeName(c codes.Code) string {
	for name, code := range connectCodes {
		if code == c {
			return name
		}
	}
	return "unknown"
}

// codeName spells c as the TelemetryService contract does: FAILED_PRECONDITION.
func codeName(c codes.Code) string {
	if c == codes.OK {
		return "OK"
	}
	return strings.ToUpper(connectCodeName(c))
}
