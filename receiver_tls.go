package zitadeltelemetry

import "github.com/otelcol-zitadel/zitadeltelemetry/internal/tlshint"

// sourceLink says how to fix a TLS failure of the connection to ZITADEL, in
// the keys of the source's block.
func sourceLink(source string) tlshint.Link {
	if source == SourceDatabase {
		return tlshint.Link{
			Name:       "ZITADEL's database",
			UnknownCA:  "set database::tls::ca_file to the CA that issued PostgreSQL's certificate",
			WrongHost:  "set database::endpoint to a name its certificate holds, or database::tls::mode: verify-ca, which checks the CA only",
			Plaintext:  "turn on ssl in PostgreSQL, or set database::tls::mode to prefer or disable",
			ClientCert: "set database::tls::cert_file and database::tls::key_file to a certificate PostgreSQL trusts",
		}
	}
	return tlshint.Link{
		Name:       "ZITADEL's API",
		UnknownCA:  "set api::tls::ca_file to the CA that issued ZITADEL's certificate",
		WrongHost:  "set api::endpoint to a name its certificate holds, or api::tls::server_name_override",
		Plaintext:  "set api::tls::insecure: true for a ZITADEL without TLS (ExternalSecure: false), or use its TLS port",
		ClientCert: "set api::tls::cert_file and api::tls::key_file to a certificate ZITADEL's proxy trusts",
	}
}
