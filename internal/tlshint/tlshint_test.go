package tlshint

import (
	"errors"
	"strings"
	"testing"
)

var testLink = Link{Name: "ZITADEL's API", UnknownCA: "set ca_file", WrongHost: "set server_name_override",
	Plaintext: "set insecure", ClientCert: "set cert_file"}

// The texts gRPC flattens a TLS failure into, as grpc-go and crypto/tls
// write them, and what each is explained as.
func TestExplainRecognisesFlattenedFailures(t *testing.T) {
	for msg, want := range map[string]string{
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`:                    ProblemUnknownCA,
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for wrong-host.invalid, not localhost"`: ProblemWrongHost,
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`:                                                ProblemPlaintext,
		`rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: remote error: tls: certificate required"`:                                                                           ProblemClientCert,
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: remote error: tls: handshake failure"`:                                                                ProblemHandshakeRefused,
		`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`:                                                               "",
	} {
		problem, fix := classify(errors.New(msg), testLink)
		if problem != want {
			t.Errorf("%s\n  explained as %q, want %q", msg, problem, want)
		}
		if want != "" && fix == "" {
			t.Errorf("%s: no fix named", msg)
		}
		got := Explain(errors.New(msg), testLink).Error()
		if want != "" && !strings.HasPrefix(got, testLink.Name+" "+want+": "+fix+": ") {
			t.Errorf("explained as %q", got)
		}
		if want == "" && got != msg {
			t.Errorf("not a TLS failure, yet changed: %q", got)
		}
	}
}
