package zitadeltelemetry

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testcerts"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
)

// startTLSZitadel serves the fake ZITADEL with cfg (nil: plaintext).
func startTLSZitadel(t *testing.T, cfg *tls.Config) *fakezitadel.Server {
	t.Helper()
	spec := fakezitadel.DefaultSpec()
	spec.Instances, spec.OrgsPerInstance = 1, 2
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}, TLS: cfg})
	require.NoError(t, srv.Start("127.0.0.1:0", ""))
	t.Cleanup(srv.Close)
	return srv
}

// restartZitadel serves cfg on the same address.
func restartZitadel(t *testing.T, srv *fakezitadel.Server, cfg *tls.Config) {
	t.Helper()
	addr := srv.GRPCAddr()
	srv.Close()
	srv.SetTLS(cfg)
	require.NoError(t, srv.Start(addr, ""))
}

// tlsAPIConfig reaches srv as host, trusting caFile.
func tlsAPIConfig(srv *fakezitadel.Server, host, caFile string) *ReceiverConfig {
	cfg := apiReceiverConfig(srv)
	_, port, _ := net.SplitHostPort(srv.GRPCAddr())
	cfg.API.Endpoint = host + ":" + port
	cfg.API.TLS.Insecure = false
	cfg.API.TLS.CAFile = caFile
	cfg.API.Retry.MaxRetries = 1
	cfg.API.Retry.InitialInterval = 10 * time.Millisecond
	cfg.API.Retry.MaxInterval = 10 * time.Millisecond
	cfg.API.RequestTimeout = 5 * time.Second
	return cfg
}

func startScraper(t *testing.T, cfg *ReceiverConfig) *zitadelScraper {
	t.Helper()
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	return s
}

// scrapeUntilComplete scrapes again after a failure, as the next collection
// intervals do. gRPC's own reconnection backoff (about a second after one
// refused handshake, in real time and not configurable) is shorter than the
// shortest collection interval, a minute; here scrapes follow each other
// until it is over, and at most 20 of them.
func scrapeUntilComplete(t *testing.T, s *zitadelScraper, want int) {
	t.Helper()
	var err error
	for range 20 {
		md, serr := s.scrape(t.Context())
		if err = serr; err == nil {
			assert.Equal(t, want, md.DataPointCount())
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the scrape did not recover once ZITADEL was fixed: %v", err)
}

// TestAPISourceTLS scrapes the fake ZITADEL over TLS: the right CA works,
// also when ZITADEL requires a client certificate; an unknown CA, a wrong host
// name, a plaintext ZITADEL and a missing client certificate each fail the
// scrape with an error naming the link and the key to fix, and the next
// scrape after ZITADEL is fixed is whole again.
func TestAPISourceTLS(t *testing.T) {
	certs := testcerts.New(t)
	right := certs.ServerConfig(t, certs.Server, false)

	srv := startTLSZitadel(t, right)
	md, err := startScraper(t, tlsAPIConfig(srv, "localhost", certs.CAFile)).scrape(t.Context())
	require.NoError(t, err)
	complete := md.DataPointCount()
	require.Positive(t, complete)

	// Over TLS 1.3 the client's handshake ends before ZITADEL has looked at
	// the client's certificate, so its refusal reaches a call either as
	// ZITADEL's alert ("certificate required") or as a broken connection,
	// whichever comes first. Over TLS 1.2 the refusal is part of the
	// handshake and always arrives, as TLS 1.2's generic alert.
	clientCertOverTLS12 := certs.ServerConfig(t, certs.Server, true)
	clientCertOverTLS12.MaxVersion = tls.VersionTLS12

	faults := []struct {
		name   string
		server *tls.Config
		host   string
		client func(*ReceiverConfig)
		want   []string
		// fixed is what ZITADEL serves once it is fixed: for the unknown
		// CA, a certificate of the authority the receiver trusts.
		fixed *tls.Config
	}{
		{
			"unknown CA", right, "127.0.0.1", func(c *ReceiverConfig) { c.API.TLS.CAFile = certs.OtherCAFile },
			[]string{tlshint.ProblemUnknownCA, "api::tls::ca_file"},
			certs.ServerConfig(t, certs.OtherServer, false),
		},
		{
			"wrong host name", certs.ServerConfig(t, certs.WrongHostServer, false), "localhost", nil,
			[]string{tlshint.ProblemWrongHost, "api::tls::server_name_override"},
			right,
		},
		{"plaintext ZITADEL", nil, "127.0.0.1", nil, []string{tlshint.ProblemPlaintext, "api::tls::insecure: true"}, right},
		{
			"no client certificate", clientCertOverTLS12, "127.0.0.1", nil,
			[]string{tlshint.ProblemHandshakeRefused, "api::tls::cert_file"},
			right,
		},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			restartZitadel(t, srv, f.server)
			cfg := tlsAPIConfig(srv, f.host, certs.CAFile)
			if f.client != nil {
				f.client(cfg)
			}
			s := startScraper(t, cfg)
			_, err := s.scrape(t.Context())
			require.Error(t, err)
			t.Logf("refusal: %v", err)
			assert.Contains(t, err.Error(), "ZITADEL's API")
			for _, w := range f.want {
				assert.Contains(t, err.Error(), w)
			}
			// ZITADEL is fixed; the same receiver's next scrape is whole.
			restartZitadel(t, srv, f.fixed)
			scrapeUntilComplete(t, s, complete)
		})
	}

	t.Run("client certificate", func(t *testing.T) {
		restartZitadel(t, srv, certs.ServerConfig(t, certs.Server, true))
		cfg := tlsAPIConfig(srv, "127.0.0.1", certs.CAFile)
		cfg.API.TLS.CertFile, cfg.API.TLS.KeyFile = certs.Client.CertFile, certs.Client.KeyFile
		md, err := startScraper(t, cfg).scrape(t.Context())
		require.NoError(t, err)
		assert.Equal(t, complete, md.DataPointCount())
	})
}
