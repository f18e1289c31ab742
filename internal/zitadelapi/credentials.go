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
		return "", status.Errorf(codes.Unauthenticated, "token_file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", status.Errorf(codes.Unauthenticated, "token_file %s is empty", p.file)
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

// authError marks a credential that could not be produced, so it is
// reported like a rejected one.
func authError(format string, args ...any) error {
	return status.Error(codes.Unauthenticated, fmt.Sprintf(format, args...))
}
