package configcheck

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestList(t *testing.T) {
	notX := func(s string) string {
		if s == "x" {
			return "is not allowed"
		}
		return ""
	}
	err := errors.Join(List("hosts", "host", []string{"a", " ", "x", "a", "b"}, notX)...)
	assert.EqualError(t, err, "hosts[1]: empty host\n"+`hosts[2]: "x" is not allowed`+"\n"+`hosts[3]: "a" is listed twice`)
	assert.Empty(t, List("hosts", "host", []string{"a", "b"}, nil))
}

func TestIsHTTPURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://zitadel.com/api/ping": true, "http://127.0.0.1:8080": true,
		"zitadel.com/api/ping": false, "ftp://zitadel.com": false, "https://": false, "%zz": false,
	} {
		assert.Equal(t, want, IsHTTPURL(raw), raw)
	}
}
