package zitadelapi

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

// Request headers ZITADEL routes on.
const (
	headerInstanceHost = "x-zitadel-instance-host"
	headerOrgID        = "x-zitadel-orgid"
)

// client makes every call of a scrape over one connection, with the request
// rate cap, a timeout per call, credentials and bounded retries.
type client struct {
	conn    *grpc.ClientConn
	creds   credentials // nil when an `auth` extension authenticates
	limiter *rate.Limiter
	timeout time.Duration
	retry   RetryConfig
	metrics *zitadelreceivermetadata.TelemetryBuilder
}

// scope routes a call: the instance host (empty for the endpoint's own
// instance) and, for v1 management calls, the organization.
type scope struct {
	host  string
	orgID string
}

// call invokes one unary method. A rejected token is renewed and the call
// repeated once; RESOURCE_EXHAUSTED, UNAVAILABLE and a call that outlasted
// request_timeout (while the scrape still has time) are retried with the
// module's backoff (retry.go) as long as the context's deadline allows,
// after the delay of a google.rpc.RetryInfo detail when ZITADEL sends one.
func (c *client) call(ctx context.Context, sc scope, method string, req, resp proto.Message, opts ...grpc.CallOption) error {
	renewed := false
	attempt := func() error {
		tok, err := c.once(ctx, sc, method, req, resp, opts...)
		if status.Code(err) == codes.Unauthenticated && c.creds != nil && !renewed && tok != "" {
			c.creds.invalidate(tok)
			renewed = true
			_, err = c.once(ctx, sc, method, req, resp, opts...)
		}
		return err
	}
	notify := func(err error, _ time.Duration) {
		c.metrics.ZitadelReceiverAPIRetries.Add(context.WithoutCancel(ctx), 1, methodCode(method, status.Code(err)))
	}
	return retry(ctx, c.retry, attempt, notify)
}

// once returns the token it sent, so a rejection can name it.
func (c *client) once(ctx context.Context, sc scope, method string, req, resp proto.Message, opts ...grpc.CallOption) (string, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return "", status.FromContextError(err).Err()
		}
	}
	kv := make([]string, 0, 6)
	var tok string
	if c.creds != nil {
		var err error
		if tok, err = c.creds.token(ctx); err != nil {
			return "", err
		}
		kv = append(kv, "authorization", "Bearer "+tok)
	}
	if sc.host != "" {
		kv = append(kv, headerInstanceHost, sc.host)
	}
	if sc.orgID != "" {
		kv = append(kv, headerOrgID, sc.orgID)
	}
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, kv...), c.timeout)
	defer cancel()
	err := remotetext.RedactStatus(c.conn.Invoke(ctx, method, req, resp, opts...))
	c.count(ctx, method, err)
	return tok, asPermissionDenied(err)
}

// count records a call that went out; a call refused for its rate is also
// counted as throttled, an answer too large to receive is not.
func (c *client) count(ctx context.Context, method string, err error) {
	code := status.Code(err)
	// The call's own context may be over; the count is still wanted.
	ctx = context.WithoutCancel(ctx)
	c.metrics.ZitadelReceiverAPICalls.Add(ctx, 1, methodCode(method, code))
	if code == codes.ResourceExhausted && !answerTooLarge(err) {
		c.metrics.ZitadelReceiverAPIThrottledCalls.Add(ctx, 1, metric.WithAttributes(attribute.String("method", method)))
	}
}
