package zitadeltelemetryreceiver

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testcerts"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// The receiver's servers are the Collector's own (confighttp, configgrpc):
// these tests hold the settings the README promises, TLS and an `auth`
// extension, on every wire.

const bearerToken = "token-of-a-reporting-collector"

// bearerAuth is a server authenticator that lets through only calls with
// its bearer token.
type bearerAuth struct {
	component.StartFunc
	component.ShutdownFunc
}

func (bearerAuth) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	for k, v := range sources { // HTTP headers are canonical, gRPC metadata lower case
		if strings.EqualFold(k, "authorization") && slices.Contains(v, "Bearer "+bearerToken) {
			return ctx, nil
		}
	}
	return ctx, errors.New("no valid bearer token")
}

// headerTransport adds a header to every request.
type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return h.next.RoundTrip(r)
}

func TestAuthExtensionGuardsEveryWire(t *testing.T) {
	authID := component.MustNewID("bearer")
	host := testkit.ExtensionsHost{authID: bearerAuth{}}
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiverOn(t, host, sink, func(c *Config) {
		c.HTTP.Get().Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
		c.GRPC.Get().Auth = configoptional.Some(configauth.Config{AuthenticatorID: authID})
	})
	page := pageOf("sys", nil, goodRow(), goodRow())

	anonymous := u.wires(t)
	withToken := u.wiresWith(t, &http.Client{Transport: headerTransport{"Authorization", "Bearer " + bearerToken, &http.Transport{}}},
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearerToken), method, req, reply, cc, opts...)
		}))
	for name := range anonymous {
		t.Run(name, func(t *testing.T) {
			sink.Reset()
			got := anonymous[name].send(t, true, page, nil)
			if name == "grpc" {
				assert.Equal(t, "unauthenticated", got.code, got.message)
			} else {
				assert.Equal(t, http.StatusUnauthorized, got.httpStatus, got.message)
			}
			assert.Zero(t, sink.DataPointCount(), "a call without credentials emitted data")

			got = withToken[name].send(t, true, page, nil)
			require.Equal(t, "ok", got.code, got.message)
			assert.Equal(t, 2, sink.DataPointCount())
		})
	}
}

func TestTLSOnEveryWire(t *testing.T) {
	certs := testcerts.New(t)
	serverTLS := configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: certs.Server.CertFile, KeyFile: certs.Server.KeyFile}})
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *Config) {
		c.HTTP.Get().TLS = serverTLS
		c.GRPC.Get().TLS = serverTLS
	})
	require.True(t, strings.HasPrefix(u.httpURL, "https://"))
	page := pageOf("sys", nil, goodRow(), goodRow())

	clientTLS := &tls.Config{RootCAs: certs.CAPool, MinVersion: tls.VersionTLS12}
	overTLS := u.wiresWith(t, &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}},
		grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	plaintext := u.wiresWith(t, u.client, grpc.WithTransportCredentials(insecure.NewCredentials()))
	for name := range overTLS {
		t.Run(name, func(t *testing.T) {
			sink.Reset()
			if name == "grpc" {
				got := plaintext[name].send(t, true, page, nil)
				assert.Equal(t, "unavailable", got.code, "a plaintext gRPC call to the TLS port: %s", got.message)
			} else {
				plainURL := "http://" + strings.TrimPrefix(u.httpURL, "https://")
				got := postHTTP(t, u.client, plainURL+zitadelCountsPath, "application/json", []byte(`{}`), false)
				assert.Equal(t, http.StatusBadRequest, got.httpStatus, "a plaintext HTTP call to the TLS port: %s", got.message)
			}
			assert.Zero(t, sink.DataPointCount(), "a plaintext call emitted data")

			got := overTLS[name].send(t, true, page, nil)
			require.Equal(t, "ok", got.code, got.message)
			assert.Equal(t, 2, sink.DataPointCount())
		})
	}
}
