package zitadelapi

import (
	"context"
	"os"
	"sync"
	"time"
)

// systemTokenRenewal keeps a self-signed token well inside ZITADEL's one-hour
// limit on its age.
const systemTokenRenewal = 50 * time.Minute

// systemUserCredentials signs its own bearer tokens as a system API user; no
// token exchange is involved.
type systemUserCredentials struct {
	userID   string
	keyFile  string
	audience string
	now      func() time.Time

	mu       sync.Mutex
	cached   string
	signedAt time.Time
}

func (s *systemUserCredentials) token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.cached != "" && now.Sub(s.signedAt) < systemTokenRenewal {
		return s.cached, nil
	}
	pem, err := os.ReadFile(s.keyFile)
	if err != nil {
		return "", localCredentialError("system_user::key_file: %v", err)
	}
	tok, err := signJWT(string(pem), "", s.userID, s.audience, now)
	if err != nil {
		return "", localCredentialError("system_user::key_file %s: %v", s.keyFile, err)
	}
	s.cached, s.signedAt = tok, now
	return tok, nil
}

func (s *systemUserCredentials) invalidate(rejected string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached == rejected {
		s.cached = ""
	}
}

func (s *systemUserCredentials) reload() {}
