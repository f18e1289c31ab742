package telemetryclient

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/wirespec"
)

// outcome is how the exporter will treat an error.
type outcome struct {
	code       codes.Code
	permanent  bool
	expired    bool
	retryAfter time.Duration
}

func outcomeOf(t *testing.T, err error) outcome {
	t.Helper()
	require.Error(t, err)
	o := outcome{code: CodeOf(err), permanent: consumererror.IsPermanent(err), expired: IsReportExpired(err)}
	var se *StatusError
	if errors.As(err, &se) {
		o.retryAfter = se.RetryAfter
	}
	if o.retryAfter > 0 {
		// exporterhelper waits at least this long only when it finds its
		// throttle error in the chain.
		assert.Contains(t, err.Error(), "Throttle ("+o.retryAfter.String()+")")
	}
	return o
}

func retryInfoDetail(d time.Duration) string {
	raw, _ := proto.Marshal(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	return `{"type":"google.rpc.RetryInfo","value":"` + base64.RawStdEncoding.EncodeToString(raw) + `"}`
}

func TestClassifyHTTP(t *testing.T) {
	retryAt := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   outcome
	}{
		// ZITADEL's wire: the statuses its service ping stops on.
		{"400 invalid argument", 400, nil, "bad body", outcome{code: codes.InvalidArgument, permanent: true}},
		{"404 not found", 404, nil, "endpoint not found", outcome{code: codes.NotFound, permanent: true}},
		{"409 already exists", 409, nil, "", outcome{code: codes.AlreadyExists, permanent: true}},
		{"412 report expired", 412, nil, "report too old", outcome{code: codes.FailedPrecondition, permanent: true, expired: true}},
		{"501 unimplemented", 501, nil, "", outcome{code: codes.Unimplemented, permanent: true}},
		{"401 unauthenticated", 401, nil, "", outcome{code: codes.Unauthenticated, permanent: true}},
		{"403 permission denied", 403, nil, "", outcome{code: codes.PermissionDenied, permanent: true}},
		{"413 other 4xx", 413, nil, "too large", outcome{code: codes.InvalidArgument, permanent: true}},
		// ZITADEL's wire carries no code: ABORTED arrives as 409 like ALREADY_EXISTS,
		// and ZITADEL's client cancels on 409; OUT_OF_RANGE arrives as 400.
		{"409 meaning ABORTED is final", 409, nil, "aborted", outcome{code: codes.AlreadyExists, permanent: true}},
		{"400 meaning OUT_OF_RANGE", 400, nil, "out of range", outcome{code: codes.InvalidArgument, permanent: true}},
		// ... and the ones it retries.
		{"429 resource exhausted", 429, nil, "", outcome{code: codes.ResourceExhausted}},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, "", outcome{code: codes.ResourceExhausted, retryAfter: 7 * time.Second}},
		{"503 with Retry-After date", 503, http.Header{"Retry-After": {retryAt}}, "", outcome{code: codes.Unavailable}},
		{"503 unavailable", 503, nil, "", outcome{code: codes.Unavailable}},
		{"502 bad gateway", 502, nil, "", outcome{code: codes.Unavailable}},
		{"504 deadline exceeded", 504, nil, "", outcome{code: codes.DeadlineExceeded}},
		{"408 request timeout", 408, nil, "", outcome{code: codes.DeadlineExceeded}},
		{"500 internal", 500, nil, "", outcome{code: codes.Internal}},
		{"500 meaning DATA_LOSS", 500, nil, "data loss", outcome{code: codes.Internal}},
		{"507 other 5xx", 507, nil, "", outcome{code: codes.Internal}},
		{"204 is not success", 204, nil, "", outcome{code: codes.Unknown}},
		{"302 is refused, never followed", 302, nil, "", outcome{code: codes.Unknown, permanent: true}},
		{"307 is refused, never followed", 307, http.Header{"Location": {"https://elsewhere.example/"}}, "", outcome{code: codes.Unknown, permanent: true}},
		{"200 without a body", 200, nil, "", outcome{code: codes.Unknown}},
		{"200 with HTML", 200, nil, "<html>captive portal</html>", outcome{code: codes.Unknown}},
		// Connect: the code in the body wins over the status.
		{
			"connect failed_precondition on 400", 400, nil, `{"code":"failed_precondition","message":"report id expired"}`,
			outcome{code: codes.FailedPrecondition, permanent: true, expired: true},
		},
		{"connect invalid_argument", 400, nil, `{"code":"invalid_argument"}`, outcome{code: codes.InvalidArgument, permanent: true}},
		{"connect not_found", 404, nil, `{"code":"not_found"}`, outcome{code: codes.NotFound, permanent: true}},
		{"connect already_exists", 409, nil, `{"code":"already_exists"}`, outcome{code: codes.AlreadyExists, permanent: true}},
		{"connect unimplemented", 501, nil, `{"code":"unimplemented"}`, outcome{code: codes.Unimplemented, permanent: true}},
		{"connect aborted on 409 is retried", 409, nil, `{"code":"aborted"}`, outcome{code: codes.Aborted}},
		{"connect out_of_range", 400, nil, `{"code":"out_of_range"}`, outcome{code: codes.OutOfRange, permanent: true}},
		{"connect data_loss", 500, nil, `{"code":"data_loss"}`, outcome{code: codes.DataLoss}},
		{"connect unavailable", 503, nil, `{"code":"unavailable"}`, outcome{code: codes.Unavailable}},
		{
			"connect resource_exhausted with RetryInfo", 429, nil,
			`{"code":"resource_exhausted","details":[` + retryInfoDetail(1500*time.Millisecond) + `]}`,
			outcome{code: codes.ResourceExhausted, retryAfter: 1500 * time.Millisecond},
		},
		{
			"connect RetryInfo and a longer Retry-After", 503,
			http.Header{"Retry-After": {"3"}},
			`{"code":"unavailable","details":[` + retryInfoDetail(time.Second) + `]}`,
			outcome{code: codes.Unavailable, retryAfter: 3 * time.Second},
		},
		{"connect internal", 500, nil, `{"code":"internal"}`, outcome{code: codes.Internal}},
		{"connect deadline_exceeded", 504, nil, `{"code":"deadline_exceeded"}`, outcome{code: codes.DeadlineExceeded}},
		{"unknown connect code falls back to the status", 400, nil, `{"code":"no_such_code"}`, outcome{code: codes.InvalidArgument, permanent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			err := classifyHTTP(tt.status, header, []byte(tt.body), &analytics.ReportResourceCountsResponse{})
			got := outcomeOf(t, err)
			if tt.name == "503 with Retry-After date" {
				assert.InDelta(t, 90, got.retryAfter.Seconds(), 2)
				got.retryAfter = 0
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClassifyHTTPSuccess(t *testing.T) {
	out := &analytics.ReportResourceCountsResponse{}
	require.NoError(t, classifyHTTP(200, http.Header{}, []byte(`{"reportId":"r-1","futureField":true}`), out))
	assert.Equal(t, "r-1", out.GetReportId())

	out = &analytics.ReportResourceCountsResponse{}
	require.NoError(t, classifyHTTP(200, http.Header{}, []byte(`{}`), out))
	assert.Empty(t, out.GetReportId())
}

func TestClassifyHTTPKeepsLongBodiesShort(t *testing.T) {
	err := classifyHTTP(500, http.Header{}, []byte(strings.Repeat("x ", 10000)), &analytics.ReportResourceCountsResponse{})
	assert.Less(t, len(err.Error()), 400)
}

// An endpoint that echoes the request's credential header back does not put
// it into the log, on any wire.
func TestEndpointAnswersAreRedacted(t *testing.T) {
	echo := "request had Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl\x00"
	for name, err := range map[string]error{
		"http":    classifyHTTP(401, http.Header{}, []byte(echo), &analytics.ReportResourceCountsResponse{}),
		"connect": classifyHTTP(401, http.Header{}, []byte(`{"code":"unauthenticated","message":"`+echo+`"}`), &analytics.ReportResourceCountsResponse{}),
		"grpc":    classifyGRPC(status.Error(codes.Unauthenticated, echo), true),
	} {
		assert.NotContains(t, err.Error(), "eyJ", name)
		assert.Contains(t, err.Error(), "request had Authorization: Bearer [redacted]", name)
	}
}

func TestClassifyGRPC(t *testing.T) {
	withRetryInfo := func(c codes.Code, d time.Duration) error {
		st, err := status.New(c, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		require.NoError(t, err)
		return st.Err()
	}
	tests := []struct {
		name string
		err  error
		want outcome
	}{
		{"invalid argument", status.Error(codes.InvalidArgument, "x"), outcome{code: codes.InvalidArgument, permanent: true}},
		{"not found", status.Error(codes.NotFound, "x"), outcome{code: codes.NotFound, permanent: true}},
		{"unimplemented", status.Error(codes.Unimplemented, "x"), outcome{code: codes.Unimplemented, permanent: true}},
		{"already exists", status.Error(codes.AlreadyExists, "x"), outcome{code: codes.AlreadyExists, permanent: true}},
		{"failed precondition", status.Error(codes.FailedPrecondition, "x"), outcome{code: codes.FailedPrecondition, permanent: true, expired: true}},
		{"unauthenticated", status.Error(codes.Unauthenticated, "x"), outcome{code: codes.Unauthenticated, permanent: true}},
		{"permission denied", status.Error(codes.PermissionDenied, "x"), outcome{code: codes.PermissionDenied, permanent: true}},
		{"out of range", status.Error(codes.OutOfRange, "x"), outcome{code: codes.OutOfRange, permanent: true}},
		{"unavailable", status.Error(codes.Unavailable, "x"), outcome{code: codes.Unavailable}},
		{"deadline exceeded", status.Error(codes.DeadlineExceeded, "x"), outcome{code: codes.DeadlineExceeded}},
		{"resource exhausted", status.Error(codes.ResourceExhausted, "x"), outcome{code: codes.ResourceExhausted}},
		{"internal", status.Error(codes.Internal, "x"), outcome{code: codes.Internal}},
		{"aborted", status.Error(codes.Aborted, "x"), outcome{code: codes.Aborted}},
		{"unknown", status.Error(codes.Unknown, "x"), outcome{code: codes.Unknown}},
		{"data loss", status.Error(codes.DataLoss, "x"), outcome{code: codes.DataLoss}},
		{
			"resource exhausted with RetryInfo", withRetryInfo(codes.ResourceExhausted, 2*time.Second),
			outcome{code: codes.ResourceExhausted, retryAfter: 2 * time.Second},
		},
		{
			"unavailable with RetryInfo", withRetryInfo(codes.Unavailable, 250*time.Millisecond),
			outcome{code: codes.Unavailable, retryAfter: 250 * time.Millisecond},
		},
		{
			"RetryInfo does not make a permanent code retryable", withRetryInfo(codes.InvalidArgument, time.Second),
			outcome{code: codes.InvalidArgument, permanent: true, retryAfter: time.Second},
		},
		{"no status at all", errors.New("connection reset"), outcome{code: codes.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classifyGRPC(tt.err, true)
			var got outcome
			if tt.want.permanent && tt.want.retryAfter > 0 {
				// A permanent error is never throttled: no Throttle wrapper.
				got = outcome{code: CodeOf(err), permanent: consumererror.IsPermanent(err), expired: IsReportExpired(err)}
				var se *StatusError
				require.ErrorAs(t, err, &se)
				got.retryAfter = se.RetryAfter
				assert.NotContains(t, err.Error(), "Throttle")
			} else {
				got = outcomeOf(t, err)
			}
			assert.Equal(t, tt.want, got)
		})
	}
	assert.NoError(t, classifyGRPC(nil, true))
}

// The client reads every Connect error code by the protocol's own name.
func TestConnectCodeNamesAreTheProtocols(t *testing.T) {
	for _, c := range wirespec.ConnectCodes {
		err := classifyHTTP(c.HTTPStatus, http.Header{}, []byte(`{"code":"`+c.Name+`"}`), &analytics.ReportResourceCountsResponse{})
		assert.Equal(t, c.Code, CodeOf(err), c.Name)
		assert.Equal(t, strings.ToUpper(c.Name), codeName(c.Code))
	}
	assert.Len(t, connectCodes, len(wirespec.ConnectCodes), "no name the protocol does not have")
}
