// Package tlshint turns the TLS failures of a connection into errors that say
// which connection failed, what is wrong and which key fixes it. The causes
// come wrapped (net/http, pgx) or flattened into a gRPC status message, so
// they are recognised by type where there is one and by Go's fixed message
// text otherwise.
package tlshint

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Link is one connection and what fixes each failure on it.
type Link struct {
	// Name says which connection, such as "the telemetry endpoint".
	Name string
	// UnknownCA, WrongHost, Plaintext and ClientCert say what to change for
	// each failure, naming the configuration keys.
	UnknownCA, WrongHost, Plaintext, ClientCert string
}

// Problems, as Explain states them.
const (
	ProblemUnknownCA  = "presented a certificate not signed by a CA in the trusted set"
	ProblemWrongHost  = "presented a certificate not valid for the host name it was reached by"
	ProblemPlaintext  = "does not speak TLS"
	ProblemClientCert = "requires a client certificate this collector did not present or it did not accept"
	// ProblemHandshakeRefused is TLS 1.2's generic refusal, which servers
	// send for a missing client certificate as for a version or cipher they
	// do not share.
	ProblemHandshakeRefused = "refused the TLS handshake: it may require a client certificate, or a TLS version or cipher this collector does not offer"
)

// Explain returns err, when it is a TLS failure, preceded by the link, the
// problem and the fix; any other error, and nil, unchanged.
func Explain(err error, link Link) error {
	if err == nil {
		return nil
	}
	problem, fix := classify(err, link)
	if problem == "" {
		return err
	}
	return fmt.Errorf("%s %s: %s: %w", link.Name, problem, fix, err)
}

func classify(err error, link Link) (problem, fix string) {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var record tls.RecordHeaderError
	msg := err.Error()
	switch {
	case errors.As(err, &unknown) || strings.Contains(msg, "certificate signed by unknown authority"):
		return ProblemUnknownCA, link.UnknownCA
	case errors.As(err, &host) || strings.Contains(msg, "x509: certificate is valid for") ||
		strings.Contains(msg, "certificate is not valid for any names"):
		return ProblemWrongHost, link.WrongHost
	case errors.As(err, &record) || strings.Contains(msg, "first record does not look like a TLS handshake") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client") ||
		strings.Contains(msg, "server refused TLS connection"):
		return ProblemPlaintext, link.Plaintext
	case strings.Contains(msg, "tls: certificate required") || strings.Contains(msg, "tls: bad certificate") ||
		strings.Contains(msg, "tls: unknown certificate authority"):
		return ProblemClientCert, link.ClientCert
	case strings.Contains(msg, "remote error: tls: handshake failure"):
		return ProblemHandshakeRefused, link.ClientCert
	}
	return "", ""
}
