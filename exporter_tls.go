package zitadeltelemetry

import "github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"

// endpointLink says how to fix a TLS failure of the connection to the
// telemetry endpoint, in the keys of the protocol's client block.
func endpointLink(protocol string) tlshint.Link {
	block, plaintext := "http", "use an http:// endpoint for an endpoint without TLS, or the endpoint's TLS port"
	if protocol == ProtocolGRPC {
		block, plaintext = "grpc", "set grpc::tls::insecure: true for an endpoint without TLS, or use its TLS port"
	}
	return tlshint.Link{
		Name:       "the telemetry endpoint",
		UnknownCA:  "set " + block + "::tls::ca_file to the CA that issued its certificate",
		WrongHost:  "set endpoint to a name its certificate holds, or " + block + "::tls::server_name_override",
		Plaintext:  plaintext,
		ClientCert: "set " + block + "::tls::cert_file and " + block + "::tls::key_file to a certificate it trusts",
	}
}
