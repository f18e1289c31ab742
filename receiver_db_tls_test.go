package zitadeltelemetry

import (
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testcerts"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// TestDatabaseSourceTLS scrapes PostgreSQL with ssl = on, in the modes
// require, verify-ca and verify-full: the right CA works; an unknown CA, a
// wrong host name (verify-full) and a server without TLS each fail the
// scrape with an error naming the link and the key to fix, and the same
// receiver's next scrape after PostgreSQL is fixed is whole.
func TestDatabaseSourceTLS(t *testing.T) {
	d := zitadeldbtest.New(t)
	smallZitadel(t, d)
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.ReaderGrants...)
	pc, err := pgx.ParseConfig(d.DSN)
	require.NoError(t, err)
	certs := testcerts.New(t)

	config := func(host, mode, caFile string) *ReceiverConfig {
		cfg := createDefaultReceiverConfig().(*ReceiverConfig)
		cfg.Source, cfg.InitialDelay = SourceDatabase, 0
		cfg.Database.Endpoint = host + ":" + strconv.Itoa(int(pc.Port))
		cfg.Database.Username, cfg.Database.Password = role.Name, configopaque.String(role.Password)
		cfg.Database.Database = d.Name
		cfg.Database.TLS.Mode, cfg.Database.TLS.CAFile = mode, caFile
		require.NoError(t, cfg.Validate())
		return cfg
	}
	refusal := func(t *testing.T, s *zitadelScraper, want ...string) {
		t.Helper()
		_, err := s.scrape(t.Context())
		require.Error(t, err)
		t.Logf("refusal: %v", err)
		assert.Contains(t, err.Error(), "ZITADEL's database")
		for _, w := range want {
			assert.Contains(t, err.Error(), w)
		}
	}
	whole := func(t *testing.T, s *zitadelScraper) int {
		t.Helper()
		md, err := s.scrape(t.Context())
		require.NoError(t, err)
		require.Positive(t, md.DataPointCount())
		return md.DataPointCount()
	}

	// PostgreSQL without TLS: require refuses it; turned on, the next scrape works.
	plain := startScraper(t, config("127.0.0.1", "require", ""))
	refusal(t, plain, tlshint.ProblemPlaintext, "database::tls::mode")
	d.ServeTLS(t, certs.Server.CertPEM, certs.Server.KeyPEM)
	complete := whole(t, plain)

	t.Run("right CA", func(t *testing.T) {
		for _, cfg := range []*ReceiverConfig{
			config("127.0.0.1", "require", ""),
			config("127.0.0.1", "verify-ca", certs.CAFile),
			config("localhost", "verify-full", certs.CAFile),
			config("127.0.0.1", "verify-full", certs.CAFile),
		} {
			assert.Equal(t, complete, whole(t, startScraper(t, cfg)), "mode %s", cfg.Database.TLS.Mode)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		var scrapers []*zitadelScraper
		for _, mode := range []string{"verify-ca", "verify-full"} {
			s := startScraper(t, config("localhost", mode, certs.OtherCAFile))
			refusal(t, s, tlshint.ProblemUnknownCA, "database::tls::ca_file")
			scrapers = append(scrapers, s)
		}
		// PostgreSQL moves to the authority these receivers trust; their
		// next scrapes are whole.
		d.ServeTLS(t, certs.OtherServer.CertPEM, certs.OtherServer.KeyPEM)
		for _, s := range scrapers {
			assert.Equal(t, complete, whole(t, s))
		}
		d.ServeTLS(t, certs.Server.CertPEM, certs.Server.KeyPEM)
	})
	t.Run("wrong host name", func(t *testing.T) {
		d.ServeTLS(t, certs.WrongHostServer.CertPEM, certs.WrongHostServer.KeyPEM)
		full := startScraper(t, config("localhost", "verify-full", certs.CAFile))
		refusal(t, full, tlshint.ProblemWrongHost, "database::tls::mode: verify-ca")
		assert.Equal(t, complete, whole(t, startScraper(t, config("localhost", "verify-ca", certs.CAFile))),
			"verify-ca checks the CA only")
		d.ServeTLS(t, certs.Server.CertPEM, certs.Server.KeyPEM)
		assert.Equal(t, complete, whole(t, full), "the next scrape after the certificate is fixed")
	})
}
