package zitadelapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"strings"
)

// hostPort strips an http(s):// or gRPC resolver prefix (dns:///host:port)
// from the configured endpoint.
func hostPort(endpoint string) string {
	for _, p := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(endpoint, p); ok {
			return strings.TrimSuffix(rest, "/")
		}
	}
	if strings.Contains(endpoint, "://") {
		if u, err := url.Parse(endpoint); err == nil {
			return strings.TrimPrefix(u.Path, "/")
		}
	}
	return endpoint
}

// derivedIssuer is ZITADEL's external URL as seen from the endpoint: https
// unless TLS is off, without the scheme's default port. ZITADEL checks the
// `aud` of self-signed JWTs against exactly this form.
func derivedIssuer(endpoint string, plaintext bool) string {
	scheme := "https"
	if strings.HasPrefix(endpoint, "http://") || (plaintext && !strings.HasPrefix(endpoint, "https://")) {
		scheme = "http"
	}
	hp := hostPort(endpoint)
	if host, port, err := net.SplitHostPort(hp); err == nil {
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			hp = host
			if strings.Contains(host, ":") {
				hp = "[" + host + "]"
			}
		}
	}
	return scheme + "://" + hp
}

// derivedSystemID names an installation that has no configured system_id.
// It depends only on the endpoint, so it is stable across restarts and
// collectors scraping the same endpoint agree on it.
func derivedSystemID(endpoint string) string {
	sum := sha256.Sum256([]byte("zitadel-api:" + endpoint))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
