package zitadeldb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// applicationName shows the receiver's sessions in pg_stat_activity.
const applicationName = "otelcol-zitadel"

// poolConfig turns the `database:` block into a pgx pool configuration. Keys
// set in the block override the dsn; what neither sets comes from libpq's
// environment variables and ~/.pgpass, as with psql.
func (c *Config) poolConfig() (*pgxpool.Config, error) {
	pc, err := c.parseConnString(c.TLS.params())
	if err != nil {
		return nil, err
	}
	cc := pc.ConnConfig
	if c.Username != "" {
		cc.User = c.Username
	}
	if c.Database != "" {
		cc.Database = c.Database
	} else if c.Endpoint != "" {
		cc.Database = defaultDatabase
	}
	if c.Password != "" {
		cc.Password = string(c.Password)
	}
	if c.PasswordFile != "" {
		pw, err := readPasswordFile(c.PasswordFile)
		if err != nil {
			return nil, err
		}
		cc.Password = pw
		path := c.PasswordFile
		pc.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			pw, err := readPasswordFile(path)
			if err != nil {
				return err
			}
			cc.Password = pw
			return nil
		}
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = applicationName
	}
	pc.MaxConns = c.MaxConns
	pc.MinConns = 0
	// Scrapes are minutes apart, so an idle session may have been ended by a
	// restart or a proxy since the last one; one round trip per part finds out
	// before a query fails on it.
	pc.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	return pc, nil
}

// parseConnString parses the connection the dsn, endpoint and the given tls
// keywords describe, as libpq would. Validate calls it too, so that a dsn that
// cannot work is a configuration error rather than a failed start.
func (c *Config) parseConnString(tlsParams [][2]string) (*pgxpool.Config, error) {
	connString := string(c.DSN)
	if c.Endpoint != "" {
		host, port, err := net.SplitHostPort(c.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("endpoint: %w", err)
		}
		connString = withParams("", [][2]string{{"host", host}, {"port", port}})
	}
	connString = withParams(connString, tlsParams)
	pc, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, describeParseError(c, err)
	}
	return pc, nil
}

// params returns the libpq keywords of the `tls:` block that are set.
func (t *TLSConfig) params() [][2]string {
	var p [][2]string
	for _, kv := range [][2]string{
		{"sslmode", t.Mode},
		{"sslrootcert", t.CAFile},
		{"sslcert", t.CertFile},
		{"sslkey", t.KeyFile},
	} {
		if kv[1] != "" {
			p = append(p, kv)
		}
	}
	return p
}

// withParams appends libpq keywords to a connection string of either form;
// the appended ones win over earlier occurrences.
func withParams(connString string, params [][2]string) string {
	if len(params) == 0 {
		return connString
	}
	var b strings.Builder
	b.WriteString(connString)
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		sep := "?"
		if strings.Contains(connString, "?") {
			sep = "&"
		}
		for _, kv := range params {
			b.WriteString(sep)
			b.WriteString(url.QueryEscape(kv[0]))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(kv[1]))
			sep = "&"
		}
		return b.String()
	}
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	for _, kv := range params {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s='%s'", kv[0], quote.Replace(kv[1]))
	}
	return b.String()
}

func readPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("password_file: %s is empty", path)
	}
	return pw, nil
}

// describeParseError explains a connection string that pgx cannot use without
// repeating the string, which may hold a password.
func describeParseError(c *Config, err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return errors.New("dsn: not a PostgreSQL connection string (postgres://… URL or key=value pairs)")
	}
	if pe.Unwrap() == nil {
		// The reason follows the quoted connection string, which is left out.
		msg := pe.Error()
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			return fmt.Errorf("dsn: %s", msg[i+3:])
		}
		return errors.New("dsn: not a PostgreSQL connection string (postgres://… URL or key=value pairs)")
	}
	var ue *url.Error
	if errors.As(pe.Unwrap(), &ue) {
		return errors.New("dsn: not a valid postgres:// URL")
	}
	key := "dsn"
	if c.Endpoint != "" {
		key = "endpoint"
	}
	if c.TLS.CAFile != "" || c.TLS.CertFile != "" || c.TLS.KeyFile != "" {
		key += " or tls"
	}
	return fmt.Errorf("%s: %w", key, pe.Unwrap())
}
