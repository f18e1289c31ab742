package zitadeltelemetry

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testcerts"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
)

// tlsEndpoint is the reference endpoint behind TLS, restartable on the same
// addresses with another certificate.
type tlsEndpoint struct {
	*telemetryserver.Server
	httpAddr, grpcAddr string
}

func startTLSEndpoint(t *testing.T, cfg *tls.Config) *tlsEndpoint {
	t.Helper()
	s := telemetryserver.New(telemetryserver.Options{})
	s.SetTLS(cfg)
	require.NoError(t, s.Start("127.0.0.1:0", "127.0.0.1:0"))
	t.Cleanup(func() { _ = s.Close() })
	return &tlsEndpoint{Server: s, httpAddr: s.HTTPURL()[len("https://"):], grpcAddr: s.GRPCAddr()}
}

// restart serves cfg (nil: plaintext) on the same addresses.
func (e *tlsEndpoint) restart(t *testing.T, cfg *tls.Config) {
	t.Helper()
	require.NoError(t, e.Close())
	e.SetTLS(cfg)
	require.NoError(t, e.Start(e.httpAddr, e.grpcAddr))
}

// tlsExporterConfig trusts caFile and reaches the endpoint as host.
func tlsExporterConfig(protocol string, e *tlsEndpoint, host, caFile string) *ExporterConfig {
	cfg := testExporterConfig(protocol, e.Server)
	_, port, _ := net.SplitHostPort(e.httpAddr)
	if protocol == ProtocolGRPC {
		_, port, _ = net.SplitHostPort(e.grpcAddr)
		cfg.Endpoint = host + ":" + port
		cfg.GRPC.TLS.Insecure = false
		cfg.GRPC.TLS.CAFile = caFile
	} else {
		cfg.Endpoint = "https://" + host + ":" + port + "/api/ping"
		cfg.HTTP.TLS.CAFile = caFile
	}
	return cfg
}

// TestExporterTLS sends a report over TLS on each wire: the right CA works;
// an unknown CA, a wrong host name and a plaintext endpoint each fail with an
// error that names the link and the key to fix, and keep the batch for a
// retry, which delivers it whole once the endpoint is fixed.
func TestExporterTLS(t *testing.T) {
	certs := testcerts.New(t)
	right := certs.ServerConfig(t, certs.Server, false)
	faults := []struct {
		name   string
		server *tls.Config
		host   string
		caFile func() string
		want   []string
	}{
		{"unknown CA", right, "127.0.0.1", func() string { return certs.OtherCAFile }, []string{tlshint.ProblemUnknownCA, "tls::ca_file"}},
		{
			"wrong host name", certs.ServerConfig(t, certs.WrongHostServer, false), "localhost", func() string { return certs.CAFile },
			[]string{tlshint.ProblemWrongHost, "tls::server_name_override"},
		},
		{"plaintext endpoint", nil, "127.0.0.1", func() string { return certs.CAFile }, []string{tlshint.ProblemPlaintext}},
	}
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			e := startTLSEndpoint(t, right)
			exp := startExporter(t, tlsExporterConfig(protocol, e, "localhost", certs.CAFile), exportertest.NewNopSettings(ExporterType))
			require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-tls", 1, 2, model.ResourceUser)))
			snap, ok := e.Snapshot("sys-tls")
			require.True(t, ok)
			assert.Len(t, snap.Rows, 2)

			for _, f := range faults {
				t.Run(f.name, func(t *testing.T) {
					e.restart(t, f.server)
					system := "sys-" + protocol + "-" + f.name[:4]
					exp := startExporter(t, tlsExporterConfig(protocol, e, f.host, f.caFile()), exportertest.NewNopSettings(ExporterType))
					md := testkit.ContractMetrics(system, 1, 3, model.ResourceUser)
					err := exp.ConsumeMetrics(context.Background(), md)
					require.Error(t, err)
					assert.False(t, consumererror.IsPermanent(err), "a TLS failure is retried: %v", err)
					msg := err.Error()
					t.Logf("refusal: %s", msg)
					assert.Contains(t, msg, "telemetry endpoint")
					for _, w := range f.want {
						assert.Contains(t, msg, w)
					}
					if f.server == nil {
						fix := map[bool]string{true: "grpc::tls::insecure: true", false: "an http:// endpoint"}[protocol == ProtocolGRPC]
						assert.Contains(t, msg, fix)
					}
					var kept consumererror.Metrics
					require.ErrorAs(t, err, &kept, "the error carries the batch for the retry")
					assert.Equal(t, md.DataPointCount(), kept.Data().DataPointCount())

					// The endpoint is fixed: the retry delivers the kept batch whole.
					e.restart(t, certs.ServerConfig(t, certs.Server, false))
					fixed := startExporter(t, tlsExporterConfig(protocol, e, "localhost", certs.CAFile), exportertest.NewNopSettings(ExporterType))
					require.NoError(t, fixed.ConsumeMetrics(context.Background(), kept.Data()))
					snap, ok := e.Snapshot(system)
					require.True(t, ok)
					assert.Len(t, snap.Rows, 3)
				})
			}
		})
	}
}
