package zitadelapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// echoingTokenEndpoint refuses every exchange and puts the request it got
// into its error_description, as a careless or hostile endpoint might. It
// keeps the assertions it was sent.
type echoingTokenEndpoint struct {
	mu         sync.Mutex
	assertions []string
}

func (e *echoingTokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	assertion := r.PostForm.Get("assertion")
	e.mu.Lock()
	e.assertions = append(e.assertions, assertion)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"error": "invalid_grant",
		"error_description": "assertion " + assertion + " is not valid\nrequest: " + r.PostForm.Encode() +
			"\x1b[31m Authorization: Bearer opaque-token-value\x00 " + strings.Repeat("more words ", 100),
	})
}

func TestTokenEndpointEchoingTheAssertionDoesNotPutItInTheLog(t *testing.T) {
	keyFile, serviceKey, err := fakezitadel.NewServiceAccountKey("service-user-1", "key-1", "")
	require.NoError(t, err)
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{ServiceKeys: []fakezitadel.ServiceKey{serviceKey}})
	endpoint := &echoingTokenEndpoint{}
	tokenServer := httptest.NewServer(endpoint)
	t.Cleanup(tokenServer.Close)

	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.KeyFile = writeFile(t, "key.json", keyFile)
	cfg.TokenURL = tokenServer.URL + "/oauth/v2/token"
	s := startSource(t, cfg, nil)

	_, err = scrape(t, s)
	require.Error(t, err)
	msg := err.Error()
	endpoint.mu.Lock()
	sent := append([]string(nil), endpoint.assertions...)
	endpoint.mu.Unlock()
	require.NotEmpty(t, sent, "the exchange reached the token endpoint")
	for _, assertion := range sent {
		parts := strings.Split(assertion, ".")
		require.Len(t, parts, 3, "a signed JWT")
		for _, part := range parts {
			assert.NotContains(t, msg, part, "no part of the signed assertion is logged")
		}
	}
	assert.NotContains(t, msg, "eyJ", "nothing that looks like a JWT is logged")
	assert.NotContains(t, msg, "opaque-token-value")
	assert.NotContains(t, msg, "\x1b")
	assert.NotContains(t, msg, "\x00")
	assert.Contains(t, msg, "HTTP 400 invalid_grant assertion [redacted] is not valid")
	assert.Contains(t, msg, "ZITADEL rejected the credentials", "the endpoint was reached and refused")
	assert.Less(t, len(msg), 800, "what the endpoint said is bounded: %s", msg)
}

// A credential that cannot be produced here is not a refusal by ZITADEL: the
// message says ZITADEL was never contacted and names the key to fix.
func TestMissingCredentialFileSaysZitadelWasNotContacted(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	tests := []struct {
		name string
		key  string
		set  func(cfg *Config, srv *fakezitadel.Server)
	}{
		{"key_file", "key_file", func(cfg *Config, srv *fakezitadel.Server) {
			cfg.KeyFile, cfg.TokenURL = missing, srv.TokenURL()
		}},
		{"token_file", "token_file", func(cfg *Config, _ *fakezitadel.Server) { cfg.TokenFile = missing }},
		{"system_user", "system_user::key_file", func(cfg *Config, _ *fakezitadel.Server) {
			cfg.SystemUser = SystemUserConfig{UserID: "system-user-1", KeyFile: missing}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, oneInstance(), fakezitadel.Options{})
			cfg := testConfig(srv)
			cfg.Token = ""
			tt.set(cfg, srv)
			s := startSource(t, cfg, nil)

			rec, err := scrape(t, s)
			require.Error(t, err)
			assert.Empty(t, rec.counts)
			msg := err.Error()
			assert.NotContains(t, msg, "rejected")
			assert.Contains(t, msg, "no credentials to send, ZITADEL was not contacted: "+tt.key+": open "+missing)
			assert.Equal(t, 1, strings.Count(msg, "not contacted"), msg)
			assert.Zero(t, srv.TotalCalls(), "nothing was sent to ZITADEL")
			assert.Zero(t, srv.TokenExchanges())
		})
	}
}
