package fakezitadel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ZITADEL accepts self-signed JWTs up to an hour old, with a second of clock skew.
const (
	maxJWTAge = time.Hour
	clockSkew = time.Second
)

const (
	grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	scopeOpenID        = "openid"
	scopeZitadelAPI    = "urn:zitadel:iam:org:project:id:zitadel:aud"
)

// principal is an authenticated caller.
type principal struct {
	system     bool
	instanceID string // of a user; empty for system users
	noRole     bool   // a user with no membership in its instance
}

// authenticate checks a bearer token: a personal access token, an exchanged
// access token, or a system user's self-signed JWT.
func (s *Server) authenticate(header string) (principal, error) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return principal{}, status.Error(codes.Unauthenticated, "auth header missing")
	}
	if inst, ok := s.opts.PATs[tok]; ok {
		return principal{instanceID: s.instanceID(inst), noRole: slices.Contains(s.opts.WithoutMembership, tok)}, nil
	}
	s.mu.RLock()
	issued, ok := s.tokens[tok]
	s.mu.RUnlock()
	if ok {
		if time.Now().After(issued.expires) {
			return principal{}, status.Error(codes.Unauthenticated, "token expired")
		}
		return principal{instanceID: issued.instanceID}, nil
	}
	if strings.Count(tok, ".") == 2 && len(s.opts.SystemUsers) > 0 {
		if _, err := s.verifySystemJWT(tok); err != nil {
			return principal{}, status.Errorf(codes.Unauthenticated, "system token invalid: %v", err)
		}
		return principal{system: true}, nil
	}
	return principal{}, status.Error(codes.Unauthenticated, "token invalid")
}

func (s *Server) instanceID(id string) string {
	if id == "" {
		return s.ds.Instances[0].ID
	}
	return id
}

// verifySystemJWT checks a system user's token the way ZITADEL does:
// RS256 with the user's registered key, iss = sub = the user, aud = the
// external URL, at most an hour old.
func (s *Server) verifySystemJWT(raw string) (string, error) {
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		key, ok := s.opts.SystemUsers[claims.Issuer]
		if !ok {
			return nil, fmt.Errorf("no system user %q", claims.Issuer)
		}
		return key, nil
	}, s.jwtOptions()...)
	if err == nil {
		err = checkSelfSigned(claims, claims.Issuer)
	}
	return claims.Issuer, err
}

func (s *Server) jwtOptions() []jwt.ParserOption {
	return []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithAudience(s.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
	}
}

// checkSelfSigned applies the rules jwt.Parse does not know.
func checkSelfSigned(c *jwt.RegisteredClaims, user string) error {
	if c.Issuer != user || c.Subject != user {
		return errors.New("iss and sub must both be the user id")
	}
	if c.IssuedAt == nil || time.Since(c.IssuedAt.Time) > maxJWTAge+clockSkew {
		return errors.New("iat missing or more than an hour ago")
	}
	return nil
}

// serveToken is ZITADEL's /oauth/v2/token for the JWT-profile grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := s.injected("/oauth/v2/token"); err != nil {
		code := http.StatusServiceUnavailable
		if status.Code(err) == codes.ResourceExhausted {
			code = http.StatusTooManyRequests
		}
		http.Error(w, err.Error(), code)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != grantTypeJWTBearer {
		oauthError(w, "unsupported_grant_type", gt)
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if !slices.Contains(scopes, scopeOpenID) || !slices.Contains(scopes, scopeZitadelAPI) {
		oauthError(w, "invalid_scope", "openid and "+scopeZitadelAPI+" are required")
		return
	}
	var key ServiceKey
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := s.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		key = k
		return k.PublicKey, nil
	}, s.jwtOptions()...)
	if err == nil {
		err = checkSelfSigned(claims, key.UserID)
	}
	if err != nil {
		oauthError(w, "invalid_grant", err.Error())
		return
	}
	tok := randomToken()
	s.mu.Lock()
	s.tokens[tok] = issuedToken{instanceID: s.instanceID(key.InstanceID), expires: time.Now().Add(s.opts.TokenLifetime)}
	s.mu.Unlock()
	s.exchanges.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(s.opts.TokenLifetime / time.Second),
	})
}

func oauthError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// IssuedTokens returns every access token the token endpoint handed out, so
// that a test can look for them where they must not appear.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for tok := range s.tokens {
		out = append(out, tok)
	}
	return out
}
