package zitadeldb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
)

func configopaqueString(s string) configopaque.String { return configopaque.String(s) }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		desc   string
		modify func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{desc: "defaults", modify: func(*Config) {}},
		{desc: "dsn", modify: func(c *Config) { c.DSN = "postgres://reader@db/zitadel" }},
		{desc: "endpoint with ipv6", modify: func(c *Config) { c.Endpoint = "[::1]:5432" }},
		{desc: "every key", modify: func(c *Config) {
			c.Endpoint, c.Username, c.PasswordFile, c.Database = "db:5432", "reader", "/run/secrets/pw", "zitadel"
			c.TLS = TLSConfig{Mode: TLSVerifyFull, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}
			c.Instances, c.EventsTable, c.UpdatedAtAttribute = []string{"1", "2"}, "otelcol_events", true
			c.Timeout, c.PageSize, c.MaxConns = 0, 1, 1
		}},
		{desc: "no events table", modify: func(c *Config) { c.EventsTable = "" }},
		{
			desc: "dsn and endpoint", modify: func(c *Config) { c.DSN, c.Endpoint = "host=db", "db:5432" },
			want: []string{"dsn and endpoint: set one of them, not both"},
		},
		{
			desc: "endpoint without port", modify: func(c *Config) { c.Endpoint = "db" },
			want: []string{`endpoint: "db" is not host:port`},
		},
		{
			desc: "endpoint without host", modify: func(c *Config) { c.Endpoint = ":5432" },
			want: []string{`endpoint: ":5432" has no host`},
		},
		{
			desc: "endpoint port out of range", modify: func(c *Config) { c.Endpoint = "db:70000" },
			want: []string{`endpoint: "db:70000": port must be a number from 1 to 65535`},
		},
		{
			desc: "two passwords", modify: func(c *Config) { c.Password, c.PasswordFile = "x", "/pw" },
			want: []string{"password and password_file: set one of them, not both"},
		},
		{
			desc: "limits", modify: func(c *Config) { c.MaxConns, c.Timeout, c.PageSize = 0, -time.Second, 0 },
			want: []string{"max_conns: must be at least 1, got 0", "timeout: per-query timeout must not be negative, got -1s", "page_size: must be at least 1, got 0"},
		},
		{
			desc: "instances", modify: func(c *Config) { c.Instances = []string{"1", "", "1"} },
			want: []string{"instances[1]: empty instance id", `instances[2]: "1" is listed twice`},
		},
		{
			desc: "dsn with an unknown sslmode", modify: func(c *Config) { c.DSN = "host=db sslmode=bogus" },
			want: []string{"dsn: sslmode is invalid"},
		},
		{
			desc: "dsn that is no dsn", modify: func(c *Config) { c.DSN = "the zitadel database" },
			want: []string{"dsn: invalid keyword/value"},
		},
		{
			desc: "dsn port out of range", modify: func(c *Config) { c.DSN = "host=db port=99999" },
			want: []string{"dsn: invalid port"},
		},
		{
			desc: "dsn url port out of range, password kept out", modify: func(c *Config) { c.DSN = "postgres://reader:s3cret@db:99999/zitadel" },
			want: []string{"dsn: invalid port"},
		},
		{
			desc: "dsn url that is no url", modify: func(c *Config) { c.DSN = "postgres://reader:s3cret@db:5432/%zz" },
			want: []string{"dsn: invalid percent-encoded token"},
		},
		{
			desc: "events table", modify: func(c *Config) { c.EventsTable = "a.b.c" },
			want: []string{`events_table: "a.b.c": want name or schema.name`},
		},
		{
			desc: "events table empty part", modify: func(c *Config) { c.EventsTable = "eventstore." },
			want: []string{`events_table: "eventstore.": want name or schema.name`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			cfg := NewDefaultConfig()
			tt.modify(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "s3cret", "a dsn's password never reaches a message")
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestTLSConfigValidate(t *testing.T) {
	tests := []struct {
		desc string
		tls  TLSConfig
		want string
	}{
		{desc: "empty", tls: TLSConfig{}},
		{desc: "verify-full", tls: TLSConfig{Mode: TLSVerifyFull, CAFile: "ca.pem"}},
		{desc: "client certificate", tls: TLSConfig{CertFile: "c.pem", KeyFile: "k.pem"}},
		{
			desc: "unknown mode", tls: TLSConfig{Mode: "on"},
			want: `mode: "on" is not a mode; use one of disable, allow, prefer, require, verify-ca, verify-full`,
		},
		{
			desc: "disable with files", tls: TLSConfig{Mode: TLSDisable, CAFile: "ca.pem"},
			want: "mode: disable turns TLS off, so ca_file, cert_file and key_file would be ignored",
		},
		{desc: "cert without key", tls: TLSConfig{CertFile: "c.pem"}, want: "cert_file and key_file: set both or neither"},
		{desc: "key without cert", tls: TLSConfig{KeyFile: "k.pem"}, want: "cert_file and key_file: set both or neither"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.tls.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestConfigRequired(t *testing.T) {
	cfg := NewDefaultConfig()
	require.EqualError(t, cfg.Required(), "set dsn or endpoint to reach ZITADEL's PostgreSQL")
	cfg.Endpoint = "db:5432"
	require.EqualError(t, cfg.Required(), "username: required with endpoint")
	cfg.Username = "reader"
	require.NoError(t, cfg.Required())
	require.NoError(t, (&Config{DSN: "postgres://db/zitadel"}).Required())
}

func TestPoolConfigFromEndpoint(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Endpoint, cfg.Username, cfg.Password = "db.internal:6432", "reader", "s3cret"
	cfg.TLS.Mode = TLSDisable
	cfg.MaxConns = 3
	pc, err := cfg.poolConfig()
	require.NoError(t, err)
	cc := pc.ConnConfig
	assert.Equal(t, "db.internal", cc.Host)
	assert.Equal(t, uint16(6432), cc.Port)
	assert.Equal(t, "reader", cc.User)
	assert.Equal(t, "s3cret", cc.Password)
	assert.Equal(t, "zitadel", cc.Database, "ZITADEL's default database")
	assert.Nil(t, cc.TLSConfig)
	assert.Equal(t, int32(3), pc.MaxConns)
	assert.Equal(t, applicationName, cc.RuntimeParams["application_name"])
}

func TestPoolConfigKeysOverrideDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://zitadel:old@db:5432/zitadel?sslmode=disable&application_name=mine",
		"host=db port=5432 user=zitadel password=old dbname=zitadel sslmode=disable application_name=mine",
	} {
		t.Run(dsn[:8], func(t *testing.T) {
			caFile, _ := writeCA(t)
			cfg := NewDefaultConfig()
			cfg.DSN = configopaque.String(dsn)
			cfg.Username, cfg.Password, cfg.Database = "reader", "new", "zitadel_prod"
			cfg.TLS = TLSConfig{Mode: TLSVerifyFull, CAFile: caFile}
			pc, err := cfg.poolConfig()
			require.NoError(t, err)
			cc := pc.ConnConfig
			assert.Equal(t, "reader", cc.User)
			assert.Equal(t, "new", cc.Password)
			assert.Equal(t, "zitadel_prod", cc.Database)
			assert.Equal(t, "mine", cc.RuntimeParams["application_name"], "the dsn's own name is kept")
			require.NotNil(t, cc.TLSConfig, "tls.mode overrides sslmode=disable")
			assert.Equal(t, "db", cc.TLSConfig.ServerName)
			assert.NotNil(t, cc.TLSConfig.RootCAs)
			assert.Empty(t, cc.Fallbacks, "verify-full has no plain-text fallback")
		})
	}
}

func TestPoolConfigErrorsHideTheDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://reader:hunter2@db:notaport/zitadel",
		"host=db password=hunter2 sslmode=bogus",
		"password=hunter2 this is not a dsn",
	} {
		cfg := NewDefaultConfig()
		cfg.DSN = configopaque.String(dsn)
		_, err := cfg.poolConfig()
		require.Error(t, err, dsn)
		assert.Contains(t, err.Error(), "dsn")
		assert.NotContains(t, err.Error(), "hunter2")
	}
}

func TestPoolConfigMissingFiles(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.DSN = "host=db"
	cfg.PasswordFile = filepath.Join(t.TempDir(), "absent")
	_, err := cfg.poolConfig()
	assert.ErrorContains(t, err, "password_file: open ")

	cfg.PasswordFile = writeFile(t, "\n")
	_, err = cfg.poolConfig()
	assert.ErrorContains(t, err, "password_file: "+cfg.PasswordFile+" is empty")

	cfg.PasswordFile = ""
	cfg.TLS = TLSConfig{Mode: TLSVerifyCA, CAFile: filepath.Join(t.TempDir(), "ca.pem")}
	_, err = cfg.poolConfig()
	assert.ErrorContains(t, err, "dsn or tls: ")
	assert.ErrorContains(t, err, "ca.pem")
}

func TestWithParamsQuotes(t *testing.T) {
	assert.Equal(t, `host=db sslrootcert='/a b/it\'s\\ca.pem'`,
		withParams("host=db", [][2]string{{"sslrootcert", `/a b/it's\ca.pem`}}))
	assert.Equal(t, "postgres://db/z?x=1&sslmode=verify-full&sslrootcert=%2Fca+dir%2Fca.pem",
		withParams("postgres://db/z?x=1", [][2]string{{"sslmode", "verify-full"}, {"sslrootcert", "/ca dir/ca.pem"}}))
	assert.Equal(t, "postgres://db/z?sslmode=require", withParams("postgres://db/z", [][2]string{{"sslmode", "require"}}))
	assert.Equal(t, "host=db", withParams("host=db", nil))
}

func TestQuoteIdent(t *testing.T) {
	assert.Equal(t, "reader", quoteIdent("reader"))
	assert.Equal(t, "reader_2", quoteIdent("reader_2"))
	assert.Equal(t, `"Reader"`, quoteIdent("Reader"))
	assert.Equal(t, `"otel-reader"`, quoteIdent("otel-reader"))
	assert.Equal(t, `"2x"`, quoteIdent("2x"))
	assert.Equal(t, `"a""b"`, quoteIdent(`a"b`))
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	writeFileAt(t, path, content)
	return path
}

func writeFileAt(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// writeCA writes a self-signed CA certificate and returns its path.
func writeCA(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return writeFile(t, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))), cert
}

// closedPort returns a loopback host:port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
