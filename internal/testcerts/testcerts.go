// Package testcerts makes the certificates of TLS tests at test time: a
// throwaway certificate authority, server certificates for the loopback
// names, a client certificate, and a second authority nobody trusts. Nothing
// that expires is kept in the repository.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// LoopbackHosts are the names a right server certificate is valid for.
var LoopbackHosts = []string{"127.0.0.1", "localhost"}

// WrongHost is the only name of the wrong-host server certificate.
const WrongHost = "wrong-host.invalid"

// Pair is a certificate and its key, in memory and in files.
type Pair struct {
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string
}

// TLSCertificate is the pair for a tls.Config.
func (p Pair) TLSCertificate(tb testing.TB) tls.Certificate {
	tb.Helper()
	c, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Set is everything a test of one TLS link needs.
type Set struct {
	// CAFile trusts Server, WrongHost and Client; OtherCAFile trusts none.
	CAFile, OtherCAFile string
	CAPool              *x509.CertPool
	// Server is valid for LoopbackHosts, WrongHostServer only for WrongHost.
	Server, WrongHostServer Pair
	// OtherServer is valid for LoopbackHosts, issued by the authority of
	// OtherCAFile: what a peer serves after moving to that authority.
	OtherServer Pair
	// Client is a client certificate of the same authority.
	Client Pair
}

// New makes a Set in a directory of the test's.
func New(tb testing.TB) *Set {
	tb.Helper()
	dir := tb.TempDir()
	ca := newAuthority(tb, "otelcol-zitadel test CA")
	other := newAuthority(tb, "unknown test CA")
	s := &Set{
		CAFile:          writeFile(tb, dir, "ca.pem", ca.certPEM),
		OtherCAFile:     writeFile(tb, dir, "other-ca.pem", other.certPEM),
		CAPool:          x509.NewCertPool(),
		Server:          ca.issue(tb, dir, "server", LoopbackHosts, x509.ExtKeyUsageServerAuth),
		WrongHostServer: ca.issue(tb, dir, "wrong-host", []string{WrongHost}, x509.ExtKeyUsageServerAuth),
		Client:          ca.issue(tb, dir, "client", []string{"otelcol-zitadel"}, x509.ExtKeyUsageClientAuth),
		OtherServer:     other.issue(tb, dir, "other-server", LoopbackHosts, x509.ExtKeyUsageServerAuth),
	}
	s.CAPool.AddCert(ca.cert)
	return s
}

// ServerConfig serves pair; with requireClient, only clients with a
// certificate of the Set's authority get through.
func (s *Set) ServerConfig(tb testing.TB, pair Pair, requireClient bool) *tls.Config {
	tb.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{pair.TLSCertificate(tb)}, MinVersion: tls.VersionTLS12}
	if requireClient {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, s.CAPool
	}
	return cfg
}

type authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func serial(tb testing.TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// validity spans the test with room for clock skew, and no more.
func validity() (time.Time, time.Time) {
	now := time.Now()
	return now.Add(-time.Hour), now.Add(24 * time.Hour)
}

func newAuthority(tb testing.TB, name string) *authority {
	tb.Helper()
	key := newKey(tb)
	from, to := validity()
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb), Subject: pkix.Name{CommonName: name},
		NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &authority{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (a *authority) issue(tb testing.TB, dir, name string, hosts []string, usage x509.ExtKeyUsage) Pair {
	tb.Helper()
	key := newKey(tb)
	from, to := validity()
	tmpl := &x509.Certificate{
		SerialNumber: serial(tb), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	p := Pair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	p.CertFile = writeFile(tb, dir, name+".pem", p.CertPEM)
	p.KeyFile = writeFile(tb, dir, name+"-key.pem", p.KeyPEM)
	return p
}

func writeFile(tb testing.TB, dir, name string, content []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
