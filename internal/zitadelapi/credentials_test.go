package zitadelapi

import (
	"context"
	"crypto/rsa"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configoptional"
	grpccredentials "google.golang.org/grpc/credentials"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

func TestEveryCredentialKindCountsEndToEnd(t *testing.T) {
	keyFile, serviceKey, err := fakezitadel.NewServiceAccountKey("service-user-1", "key-1", "")
	require.NoError(t, err)
	systemPEM, systemPub, err := fakezitadel.NewSystemUserKey()
	require.NoError(t, err)
	opts := fakezitadel.Options{
		ServiceKeys: []fakezitadel.ServiceKey{serviceKey},
		SystemUsers: map[string]*rsa.PublicKey{"system-user-1": systemPub},
	}

	tests := []struct {
		name string
		set  func(t *testing.T, cfg *Config, srv *fakezitadel.Server)
	}{
		{"token", func(*testing.T, *Config, *fakezitadel.Server) {}},
		{"token_file", func(t *testing.T, cfg *Config, _ *fakezitadel.Server) {
			cfg.Token = ""
			cfg.TokenFile = writeFile(t, "pat", []byte(testPAT+"\n"))
		}},
		{"key_file", func(t *testing.T, cfg *Config, srv *fakezitadel.Server) {
			cfg.Token = ""
			cfg.KeyFile = writeFile(t, "key.json", keyFile)
			cfg.TokenURL = srv.TokenURL()
		}},
		{"system_user", func(t *testing.T, cfg *Config, _ *fakezitadel.Server) {
			cfg.Token = ""
			cfg.SystemUser = SystemUserConfig{UserID: "system-user-1", KeyFile: writeFile(t, "system.pem", systemPEM)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, fakezitadel.DefaultSpec(), opts)
			cfg := testConfig(srv)
			tt.set(t, cfg, srv)
			s := startSource(t, cfg, nil)

			rec, err := scrape(t, s)
			require.NoError(t, err)
			want := 0
			for _, c := range srv.Dataset().ExpectedCounts() {
				if c.InstanceID == srv.Dataset().Instances[0].ID {
					want++
				}
			}
			assert.Len(t, rec.counts, want)
		})
	}
}

func TestJWTProfileTokenIsCachedAndRenewedOnRejection(t *testing.T) {
	keyFile, serviceKey, err := fakezitadel.NewServiceAccountKey("service-user-1", "key-1", "")
	require.NoError(t, err)
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{ServiceKeys: []fakezitadel.ServiceKey{serviceKey}})
	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.KeyFile = writeFile(t, "key.json", keyFile)
	cfg.TokenURL = srv.TokenURL()
	s := startSource(t, cfg, nil)

	for range 2 {
		_, err := scrape(t, s)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), srv.TokenExchanges(), "one token serves every call until it expires")

	srv.RevokeTokens()
	_, err = scrape(t, s)
	require.NoError(t, err, "a rejected token is exchanged again and the call repeated")
	assert.Equal(t, int64(2), srv.TokenExchanges(), "concurrent rejections renew the token once")
}

func TestJWTProfileNeedsTheIssuerAsAudience(t *testing.T) {
	keyFile, serviceKey, err := fakezitadel.NewServiceAccountKey("service-user-1", "key-1", "")
	require.NoError(t, err)
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{ServiceKeys: []fakezitadel.ServiceKey{serviceKey}})
	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.KeyFile = writeFile(t, "key.json", keyFile)
	cfg.TokenURL = srv.TokenURL()
	cfg.Issuer = "https://elsewhere.example.com"
	s := startSource(t, cfg, nil)

	_, err = scrape(t, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_grant")
	assert.Contains(t, err.Error(), "IAM_OWNER_VIEWER")
}

func TestRotatedTokenFileIsPickedUp(t *testing.T) {
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{PATs: map[string]string{"new-token": ""}})
	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.TokenFile = writeFile(t, "pat", []byte("old-token"))
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rejected the credentials")

	require.NoError(t, os.WriteFile(cfg.TokenFile, []byte("new-token\n"), 0o600))
	_, err = scrape(t, s)
	require.NoError(t, err)
}

func TestSystemUserTokenIsReusedUntilRenewal(t *testing.T) {
	pemKey, _, err := fakezitadel.NewSystemUserKey()
	require.NoError(t, err)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &systemUserCredentials{userID: "u", keyFile: writeFile(t, "k.pem", pemKey), audience: "https://z.example.com",
		now: func() time.Time { return now }}

	first, err := c.token(context.Background())
	require.NoError(t, err)
	now = now.Add(systemTokenRenewal - time.Second)
	again, err := c.token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first, again)

	now = now.Add(2 * time.Second)
	renewed, err := c.token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first, renewed, "renewed before ZITADEL's one-hour limit")
}

func TestJWTProfileTokenIsRenewedBeforeItExpires(t *testing.T) {
	keyFile, serviceKey, err := fakezitadel.NewServiceAccountKey("service-user-1", "key-1", "")
	require.NoError(t, err)
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{
		ServiceKeys:   []fakezitadel.ServiceKey{serviceKey},
		TokenLifetime: time.Second,
	})
	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.KeyFile = writeFile(t, "key.json", keyFile)
	cfg.TokenURL = srv.TokenURL()
	cfg.PerOrganization = false
	s := startSource(t, cfg, nil)

	_, err = scrape(t, s)
	require.NoError(t, err)
	time.Sleep(time.Second) // the token lives a second and is renewed a tenth earlier
	_, err = scrape(t, s)
	require.NoError(t, err)
	assert.Equal(t, int64(2), srv.TokenExchanges())
}

// bearerAuthenticator is a client authenticator extension, as the
// collector's oauth2client or bearertokenauth extensions are.
type bearerAuthenticator struct {
	component.StartFunc
	component.ShutdownFunc
	token string
}

func (b bearerAuthenticator) PerRPCCredentials() (grpccredentials.PerRPCCredentials, error) {
	return bearerToken(b.token), nil
}

type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return false }

type hostWithExtensions map[component.ID]component.Component

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h }

func TestAuthExtensionReplacesTheCredentials(t *testing.T) {
	srv := startFake(t, fakezitadel.DefaultSpec(), fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.Token = ""
	authID := component.MustNewID("bearertokenauth")
	cfg.Auth = configoptional.Some(configauth.Config{AuthenticatorID: authID})
	require.NoError(t, cfg.Required())

	s := NewSource(cfg, activity.Config{}, nil, componenttest.NewNopTelemetrySettings()).(*source)
	require.NoError(t, s.Start(context.Background(), hostWithExtensions{authID: bearerAuthenticator{token: testPAT}}))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })

	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.NotEmpty(t, rec.counts)
}
