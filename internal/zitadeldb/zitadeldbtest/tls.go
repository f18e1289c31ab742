package zitadeldbtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServeTLS turns on ssl in the cluster with the given server certificate and
// key, and waits until new connections can use it. It changes the whole
// cluster, which the other tests reach with sslmode=disable and so do not
// notice; StopTLS, also run when the test ends, turns it off again.
//
// PostgreSQL reads the files as the user it runs as, and refuses a key that
// others may read: they are written into a directory of their own, owned by
// the owner of the cluster's data directory.
func (d *DB) ServeTLS(tb testing.TB, certPEM, keyPEM []byte) {
	tb.Helper()
	// Not tb.TempDir: PostgreSQL's user must enter it, and a test's temporary
	// directories sit in one only the test's user may enter.
	dir, err := os.MkdirTemp("", "zitadel-test-pg-tls") //nolint:usetesting // see above
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	_, st := d.dataDirectory(tb, "its certificate cannot be set")
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	for _, f := range []struct {
		path    string
		content []byte
	}{{certFile, certPEM}, {keyFile, keyPEM}} {
		if err := os.WriteFile(f.path, f.content, 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chown(f.path, int(st.Uid), int(st.Gid)); err != nil && os.Getuid() != int(st.Uid) {
			tb.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	d.Exec(tb, "ALTER SYSTEM SET ssl_cert_file = '"+certFile+"'")
	d.Exec(tb, "ALTER SYSTEM SET ssl_key_file = '"+keyFile+"'")
	d.Exec(tb, "ALTER SYSTEM SET ssl = on")
	d.Exec(tb, "SELECT pg_reload_conf()")
	tb.Cleanup(func() { d.StopTLS(tb) })
	d.awaitTLS(tb, true, certPEM)
}

// StopTLS turns ssl off again.
func (d *DB) StopTLS(tb testing.TB) {
	tb.Helper()
	d.Exec(tb, "ALTER SYSTEM RESET ssl")
	d.Exec(tb, "ALTER SYSTEM RESET ssl_cert_file")
	d.Exec(tb, "ALTER SYSTEM RESET ssl_key_file")
	d.Exec(tb, "SELECT pg_reload_conf()")
	d.awaitTLS(tb, false, nil)
}

// awaitTLS waits until a new connection finds TLS on (with certPEM as the
// server's certificate) or off: pg_reload_conf only signals the server.
func (d *DB) awaitTLS(tb testing.TB, on bool, certPEM []byte) {
	tb.Helper()
	cfg, err := pgx.ParseConfig(d.DSN + " sslmode=require")
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			served := servesCert(conn.PgConn().Conn(), certPEM)
			_ = conn.Close(ctx)
			if on && served {
				return
			}
		} else if !on {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("PostgreSQL did not turn ssl %v within 30 s (last: %v)", map[bool]string{true: "on", false: "off"}[on], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// servesCert says whether c is a TLS connection whose server presented the
// certificate certPEM.
func servesCert(c net.Conn, certPEM []byte) bool {
	tc, ok := c.(*tls.Conn)
	block, _ := pem.Decode(certPEM)
	if !ok || block == nil {
		return false
	}
	peers := tc.ConnectionState().PeerCertificates
	return len(peers) > 0 && bytes.Equal(peers[0].Raw, block.Bytes)
}
