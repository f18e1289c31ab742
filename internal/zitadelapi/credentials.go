package zitadelapi

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// credentials yields the bearer token for every call. invalidate is told
// which token ZITADEL rejected, so concurrent calls that fail with the same
// token renew it once, not once each.
type credentials interface {
	token(ctx context.Context) (string, error)
	invalidate(rejected string)
	// reload picks up rotated files at the start of a scrape.
	reload()
}

// patCredentials is a personal access token, inline or from a file.
type patCredentials struct {
	inline string
	file   string

	mu     sync.Mutex
	cached string
}

func (p *patCredentials) token(context.Context) (string, error) {
	if p.file == "" {
		return p.inline, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached != "" {
		return p.cached, nil
	}
	b, err := os.ReadFile(p.file)
	if err != nil {
		return "", localCredentialError("token_file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", localCredentialError("token_file %s is empty", p.file)
	}
	p.cached = tok
	return tok, nil
}

func (p *patCredentials) invalidate(rejected string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached == rejected {
		p.cached = ""
	}
}

func (p *patCredentials) reload() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cached = ""
}

// authError is a refusal by ZITADEL's token endpoint: the credentials were
// sent and rejected.
func authError(format string, args ...any) error {
	return status.Error(codes.Unauthenticated, fmt.Sprintf(format, args...))
}

// credentialNotProduced is a credential that could not be made here (a key
// or token file missing or unreadable, a key that does not sign, a token URL
// that is no URL), so ZITADEL was never contacted. It stops the calls as a
// rejection does, and is described as what it is.
type credentialNotProduced struct{ msg string }

func localCredentialError(format string, args ...any) error {
	return &credentialNotProduced{msg: fmt.Sprintf(format, args...)}
}

func (e *credentialNotProduced) Error() string { return e.msg }

func (e *credentialNotProduced) GRPCStatus() *status.Status {
	return status.New(codes.Unauthenticated, e.msg)
}
