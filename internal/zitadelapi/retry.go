package zitadelapi

import (
	"context"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v7"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retry runs call until it succeeds, fails with a code other than
// RESOURCE_EXHAUSTED (but an answer too large to receive), UNAVAILABLE or
// DEADLINE_EXCEEDED (a call that outlasted
// request_timeout while ctx still runs), has been retried cfg.MaxRetries times,
// or the next wait would outlast ctx. The waits grow from InitialInterval by
// doubling up to MaxInterval, each drawn from half to one and a half of its
// interval so concurrent workers spread out; a google.rpc.RetryInfo delay
// from the server replaces the wait it comes before. notify hears of each
// retry. The error returned is the last call's, so its status survives.
func retry(ctx context.Context, cfg RetryConfig, call func() error, notify backoff.Notify) error {
	p := &retryPolicy{ctx: ctx, exp: &backoff.ExponentialBackOff{
		InitialInterval:     cfg.InitialInterval,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         cfg.MaxInterval,
	}}
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, p.sort(call()) },
		backoff.WithBackOff(p),
		backoff.WithMaxTries(uint(max(cfg.MaxRetries, 0))+1),
		backoff.WithMaxElapsedTime(0), // the context's deadline bounds the retries
		backoff.WithNotify(notify))
	if re := backoff.AsRetryError(err); re != nil && re.LastErr != nil {
		return re.LastErr
	}
	return err
}

// retryPolicy is the exponential backoff, stopped where the context's
// deadline would cut the wait short (the scrape gets the error now instead
// of at the deadline), and overridden by the server's RetryInfo.
type retryPolicy struct {
	ctx         context.Context
	exp         *backoff.ExponentialBackOff
	serverDelay time.Duration // of the last refusal; 0 when it named none
}

func (p *retryPolicy) Reset() {
	p.exp.Reset()
	p.serverDelay = 0
}

func (p *retryPolicy) NextBackOff() time.Duration {
	d := p.exp.NextBackOff()
	if p.serverDelay > 0 {
		d, p.serverDelay = p.serverDelay, 0
	}
	if deadline, ok := p.ctx.Deadline(); d == backoff.Stop || ok && time.Until(deadline) < d {
		return backoff.Stop
	}
	return d
}

// sort marks what is not worth another attempt as permanent and keeps the
// server's delay of what is.
func (p *retryPolicy) sort(err error) error {
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.ResourceExhausted, codes.Unavailable:
		if answerTooLarge(err) {
			return backoff.Permanent(err)
		}
		p.serverDelay = retryDelay(err)
		return err
	case codes.DeadlineExceeded:
		// One call outlasted request_timeout; while the scrape itself has
		// time, another attempt is worth it.
		if p.ctx.Err() != nil {
			return backoff.Permanent(err)
		}
		return err
	default:
		return backoff.Permanent(err)
	}
}

// grpc-go refuses an answer above the client's maximum receive size itself,
// with RESOURCE_EXHAUSTED, as ZITADEL refuses a caller above its rate: the
// same answer would be refused again, so it is neither retried nor counted
// as throttling. Its messages (rpc_util.go) all say "larger than max".
const grpcTooLarge = "larger than max"

// answerTooLarge reports whether err is grpc-go refusing an answer above the
// client's maximum receive size.
func answerTooLarge(err error) bool {
	st := status.Convert(err)
	return st.Code() == codes.ResourceExhausted && strings.HasPrefix(st.Message(), "grpc: ") &&
		strings.Contains(st.Message(), grpcTooLarge)
}

// retryDelay reads a google.rpc.RetryInfo detail of a status error.
func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
