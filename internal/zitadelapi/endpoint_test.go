package zitadelapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDerivedIssuer(t *testing.T) {
	tests := []struct {
		endpoint  string
		plaintext bool
		want      string
	}{
		{"zitadel.example.com:443", false, "https://zitadel.example.com"},
		{"zitadel.example.com:8443", false, "https://zitadel.example.com:8443"},
		{"localhost:8080", true, "http://localhost:8080"},
		{"zitadel.internal:80", true, "http://zitadel.internal"},
		{"https://zitadel.example.com:443", true, "https://zitadel.example.com"},
		{"http://zitadel.example.com:8080", false, "http://zitadel.example.com:8080"},
		{"dns:///zitadel.example.com:443", false, "https://zitadel.example.com"},
		{"[::1]:443", false, "https://[::1]"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			assert.Equal(t, tt.want, derivedIssuer(tt.endpoint, tt.plaintext))
		})
	}
}

func TestDerivedSystemIDIsStablePerEndpoint(t *testing.T) {
	a := derivedSystemID("zitadel.example.com:443")
	assert.Equal(t, a, derivedSystemID("zitadel.example.com:443"))
	assert.NotEqual(t, a, derivedSystemID("other.example.com:443"))
	assert.Len(t, a, 43, "base64url of a SHA-256 without padding")
	// Pinned: a change would split every existing series of the installation.
	assert.Equal(t, "LS55qbaNxp2XYrlvlMGIVm-KWhyfUyt6cqHIr7y448M", derivedSystemID("zitadel.example.com:443"))
}
