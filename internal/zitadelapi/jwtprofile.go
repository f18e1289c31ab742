package zitadelapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
)

// The scope ZITADEL needs to issue a token for its own APIs.
const apiScope = "openid urn:zitadel:iam:org:project:id:zitadel:aud"

const grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer" //nolint:gosec // G101: a grant type's name, no credential

// assertionLifetime is ZITADEL's limit for the age of a signed JWT.
const assertionLifetime = time.Hour

// serviceAccountKey is the JSON key file ZITADEL hands out for a service user.
type serviceAccountKey struct {
	Type   string `json:"type"`
	KeyID  string `json:"keyId"`
	Key    string `json:"key"`
	UserID string `json:"userId"`
}

func readServiceAccountKey(path string) (serviceAccountKey, error) {
	var k serviceAccountKey
	b, err := os.ReadFile(path)
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("%s is not a ZITADEL key file: %w", path, err)
	}
	if k.KeyID == "" || k.Key == "" || k.UserID == "" {
		return k, fmt.Errorf("%s lacks keyId, key or userId", path)
	}
	return k, nil
}

// jwtProfileCredentials exchanges a JWT signed with a service user's key for
// an access token (RFC 7523) and keeps it until shortly before it expires.
type jwtProfileCredentials struct {
	keyFile  string
	audience string
	tokenURL string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex
	cached  string
	renewAt time.Time
}

func (j *jwtProfileCredentials) token(ctx context.Context) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cached != "" && j.now().Before(j.renewAt) {
		return j.cached, nil
	}
	tok, lifetime, err := j.exchange(ctx)
	if err != nil {
		return "", err
	}
	j.cached = tok
	// Renew a tenth of the lifetime early, at most a minute, so no call
	// carries a token that expires on the way.
	margin := min(lifetime/10, time.Minute)
	j.renewAt = j.now().Add(lifetime - margin)
	return tok, nil
}

func (j *jwtProfileCredentials) invalidate(rejected string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cached == rejected {
		j.cached = ""
	}
}

func (j *jwtProfileCredentials) reload() {}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (j *jwtProfileCredentials) exchange(ctx context.Context) (string, time.Duration, error) {
	key, err := readServiceAccountKey(j.keyFile)
	if err != nil {
		return "", 0, localCredentialError("key_file: %v", err)
	}
	assertion, err := signJWT(key.Key, key.KeyID, key.UserID, j.audience, j.now())
	if err != nil {
		return "", 0, localCredentialError("key_file %s: %v", j.keyFile, err)
	}
	form := url.Values{
		"grant_type": {grantTypeJWTBearer},
		"scope":      {apiScope},
		"assertion":  {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, localCredentialError("token_url: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return "", 0, status.Errorf(codes.Unavailable, "token exchange at %s: %v", j.tokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, status.Errorf(codes.Unavailable, "token exchange at %s: %v", j.tokenURL, err)
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return "", 0, authError("token exchange at %s: HTTP %d redirecting to %q, which is not followed: set token_url to the address that issues tokens",
			j.tokenURL, resp.StatusCode, remotetext.URL(resp.Header.Get("Location")))
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", 0, status.Errorf(codes.ResourceExhausted, "token exchange at %s: HTTP %d", j.tokenURL, resp.StatusCode)
	case resp.StatusCode >= 500:
		return "", 0, status.Errorf(codes.Unavailable, "token exchange at %s: HTTP %d", j.tokenURL, resp.StatusCode)
	case resp.StatusCode != http.StatusOK || tr.AccessToken == "":
		// The answer's words are the endpoint's; one that echoes the request
		// would put the signed assertion, valid for an hour, into the log.
		said := remotetext.Redact(strings.TrimSpace(tr.Error+" "+tr.ErrorDescription), assertion)
		return "", 0, authError("token exchange at %s: %s", j.tokenURL, strings.TrimSpace(fmt.Sprintf("HTTP %d %s", resp.StatusCode, said)))
	}
	lifetime := time.Duration(tr.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = 5 * time.Minute
	}
	return tr.AccessToken, lifetime, nil
}

// signJWT signs the RS256 assertion ZITADEL expects from service and system
// users: iss = sub = the user, aud = ZITADEL's external URL.
func signJWT(pemKey, keyID, userID, audience string, now time.Time) (string, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemKey))
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    userID,
		Subject:   userID,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(assertionLifetime)),
	})
	if keyID != "" {
		t.Header["kid"] = keyID
	}
	return t.SignedString(key)
}
