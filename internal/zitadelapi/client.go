package zitadelapi

import (
	"context"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
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
}

// scope routes a call: the instance host (empty for the endpoint's own
// instance) and, for v1 management calls, the organization.
type scope struct {
	host  string
	orgID string
}

// call invokes one unary method. A rejected token is renewed and the call
// repeated once; RESOURCE_EXHAUSTED, UNAVAILABLE and a call that outlasted
// request_timeout (while the scrape still has time) are retried with
// exponential backoff as long as the context's deadline allows.
func (c *client) call(ctx context.Context, sc scope, method string, req, resp proto.Message) error {
	renewed := false
	for attempt := 0; ; attempt++ {
		tok, err := c.once(ctx, sc, method, req, resp)
		if err == nil {
			return nil
		}
		switch status.Code(err) {
		case codes.Unauthenticated:
			if c.creds == nil || renewed || tok == "" {
				return err
			}
			c.creds.invalidate(tok)
			renewed = true
			continue
		case codes.ResourceExhausted, codes.Unavailable, codes.DeadlineExceeded:
			if ctx.Err() != nil || attempt >= c.retry.MaxRetries {
				return err
			}
			if !c.backoff(ctx, attempt) {
				return err
			}
			continue
		}
		return err
	}
}

// once returns the token it sent, so a rejection can name it.
func (c *client) once(ctx context.Context, sc scope, method string, req, resp proto.Message) (string, error) {
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
	return tok, remotetext.RedactStatus(c.conn.Invoke(ctx, method, req, resp))
}

// backoff sleeps before retry number attempt+1 and reports false when the
// wait would outlast the context.
func (c *client) backoff(ctx context.Context, attempt int) bool {
	d := c.retry.InitialInterval << attempt
	if d <= 0 || d > c.retry.MaxInterval {
		d = c.retry.MaxInterval
	}
	// Jitter spreads the retries of concurrent workers.
	d = d/2 + rand.N(d/2+1)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
