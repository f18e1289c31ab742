package zitadelapi

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

// TestRetryInfoDelayReplacesTheBackoff: the backoff's own first wait (half
// an hour or more) would not fit the scrape's deadline, so only the
// server's short RetryInfo delay makes the retry happen.
func TestRetryInfoDelayReplacesTheBackoff(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCallsWithRetryDelay(userpb.UserService_ListUsers_FullMethodName, codes.ResourceExhausted, 2, time.Millisecond)
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	cfg.Retry.InitialInterval = time.Hour
	cfg.Retry.MaxInterval = time.Hour
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.Equal(t, int64(2+2), srv.Calls(userpb.UserService_ListUsers_FullMethodName), "two user totals, each refused once and retried")
	assert.NotEmpty(t, rec.counts)
}

// TestRetryInfoBeyondTheDeadlineEndsAtOnce: a delay the scrape cannot wait
// for is not waited for.
func TestRetryInfoBeyondTheDeadlineEndsAtOnce(t *testing.T) {
	srv := startFake(t, oneInstance(), fakezitadel.Options{})
	srv.FailCallsWithRetryDelay(userpb.UserService_ListUsers_FullMethodName, codes.Unavailable, -1, 10*time.Minute)
	cfg := testConfig(srv)
	cfg.PerOrganization = false
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.Error(t, err)
	assert.Equal(t, int64(2), srv.Calls(userpb.UserService_ListUsers_FullMethodName), "each user total tried once")
}

// TestRetryEndsWithTheContext: a cancelled context ends the retries and the
// last call's status comes back unwrapped.
func TestRetryEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tries := 0
	err := retry(ctx, RetryConfig{MaxRetries: 10, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond},
		func() error {
			tries++
			if tries == 3 {
				cancel()
			}
			return status.Error(codes.Unavailable, "down")
		}, func(error, time.Duration) {})
	assert.Equal(t, 3, tries)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, "down", status.Convert(err).Message())
}

// TestOtherCodesAreNotRetried: only RESOURCE_EXHAUSTED, UNAVAILABLE and a
// call's own DEADLINE_EXCEEDED are.
func TestOtherCodesAreNotRetried(t *testing.T) {
	for _, code := range []codes.Code{codes.Internal, codes.PermissionDenied, codes.NotFound} {
		tries := 0
		err := retry(context.Background(), RetryConfig{MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond},
			func() error {
				tries++
				return status.Error(code, "no")
			}, func(error, time.Duration) {})
		assert.Equal(t, 1, tries, code.String())
		assert.Equal(t, code, status.Code(err))
	}
}

// A call that outlasted request_timeout is tried again while the scrape's
// own context runs, and not once that has ended.
func TestDeadlineExceededIsRetriedWhileTheScrapeHasTime(t *testing.T) {
	cfg := RetryConfig{MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}
	tries := 0
	err := retry(context.Background(), cfg, func() error {
		tries++
		return status.Error(codes.DeadlineExceeded, "slow")
	}, func(error, time.Duration) {})
	assert.Equal(t, 4, tries)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))

	ctx, cancel := context.WithCancel(context.Background())
	tries = 0
	err = retry(ctx, cfg, func() error {
		tries++
		cancel()
		return status.Error(codes.DeadlineExceeded, "slow")
	}, func(error, time.Duration) {})
	assert.Equal(t, 1, tries)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
}
