package fieldshape

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Application ids as ZITADEL makes them pass; what it never makes does not,
// and the reason does not repeat the value.
func TestCheckApplicationID(t *testing.T) {
	for id, ok := range map[string]bool{
		"312000000000000001@my_project":   true, // an OIDC client id: id@project name, '_' for spaces
		"312000000000000001@projét_ünïcø": true, // project names are any text
		"https://sp.example.com/metadata": true, // a SAML entity id
		"urn:sp:wiki":                     true,
		"":                                false,
		"jane doe":                        false,
		"jane\u00a0doe@example.com":       false, // a no-break space
		"app\x00":                         false,
		"app\xff":                         false,
		strings.Repeat("a", MaxApplicationIDBytes+1): false,
	} {
		p := CheckApplicationID(id)
		assert.Equal(t, ok, p == "", "%q: %s", id, p)
		if id != "" && len(id) > 3 {
			assert.NotContains(t, p, id)
		}
	}
}
