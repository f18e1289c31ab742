package wirespec

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// The paths ZITADEL's service ping appends to its configured endpoint, by
// plain string concatenation (internal/serviceping/client.go).
const (
	ZITADELPathInstances      = "/instances"
	ZITADELPathResourceCounts = "/resource_counts"
)

// ConnectCode is one row of the Connect protocol's error code table
// (connectrpc.com/docs/protocol, "Error Codes").
type ConnectCode struct {
	Code       codes.Code
	Name       string
	HTTPStatus int
}

// ConnectCodes are every error code of the Connect protocol.
var ConnectCodes = []ConnectCode{
	{codes.Canceled, "canceled", 499},
	{codes.Unknown, "unknown", http.StatusInternalServerError},
	{codes.InvalidArgument, "invalid_argument", http.StatusBadRequest},
	{codes.DeadlineExceeded, "deadline_exceeded", http.StatusGatewayTimeout},
	{codes.NotFound, "not_found", http.StatusNotFound},
	{codes.AlreadyExists, "already_exists", http.StatusConflict},
	{codes.PermissionDenied, "permission_denied", http.StatusForbidden},
	{codes.ResourceExhausted, "resource_exhausted", http.StatusTooManyRequests},
	{codes.FailedPrecondition, "failed_precondition", http.StatusBadRequest},
	{codes.Aborted, "aborted", http.StatusConflict},
	{codes.OutOfRange, "out_of_range", http.StatusBadRequest},
	{codes.Unimplemented, "unimplemented", http.StatusNotImplemented},
	{codes.Internal, "internal", http.StatusInternalServerError},
	{codes.Unavailable, "unavailable", http.StatusServiceUnavailable},
	{codes.DataLoss, "data_loss", http.StatusInternalServerError},
	{codes.Unauthenticated, "unauthenticated", http.StatusUnauthorized},
}
