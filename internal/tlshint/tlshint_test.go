package tlshint

import (
	"errors"
	"testing"
)

var testLink = Link{
	Name: "ZITADEL's API", UnknownCA: "set ca_file", WrongHost: "set server_name_override",
	Plaintext: "set insecure", ClientCert: "set cert_file",
}

// The texts gRPC flattens a TLS failure into, as grpc-go and crypto/tls
// write them, and what each is explained as.
func TestExplainRecognisesFlattenedFailures(t *testing.T) {
	type explained struct{ problem, fix string }
	for msg, want := range map[string]explained{
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`:                    {ProblemUnknownCA, "set ca_file"},
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for wrong-host.invalid, not localhost"`: {ProblemWrongHost, "set server_name_override"},
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`:                                                {ProblemPlaintext, "set insecure"},
		`rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: remote error: tls: certificate required"`:                                                                           {ProblemClientCert, "set cert_file"},
		`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: remote error: tls: handshake failure"`:                                                                {ProblemHandshakeRefused, "set cert_file"},
		`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`:                                                               {},
	} {
		problem, fix := classify(errors.New(msg), testLink)
		if (explained{problem, fix}) != want {
			t.Errorf("%s\n  explained as %q, %q; want %q, %q", msg, problem, fix, want.problem, want.fix)
		}
		got := Explain(errors.New(msg), testLink).Error()
		if want.problem != "" && got != testLink.Name+" "+want.problem+": "+want.fix+": "+msg {
			t.Errorf("explained as %q", got)
		}
		if want.problem == "" && got != msg {
			t.Errorf("not a TLS failure, yet changed: %q", got)
		}
	}
}
