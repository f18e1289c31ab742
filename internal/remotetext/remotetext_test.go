package remotetext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain words stay", "Errors.User.NotFound (QUERY-Dfbg2)", "Errors.User.NotFound (QUERY-Dfbg2)"},
		{"a JWT", "bad eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl here", "bad [redacted] here"},
		{"a bearer header", "got Authorization: Bearer abc.def", "got Authorization: Bearer [redacted]"},
		{"a form body", "grant_type=x&assertion=abc&scope=openid", "grant_type=x&assertion=[redacted]&scope=openid"},
		{"a JSON pair", `{"access_token":"abc"}`, `{"access_token":"[redacted]"}`},
		{"a long opaque run", "token " + strings.Repeat("A1", 30), "token [redacted]"},
		{"control characters and lines", "a\x1b[0m\nb\x00c", "a[0m bc"},
		{"bounded", strings.Repeat("word ", 100), strings.TrimSpace(strings.Repeat("word ", 40)) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Redact(tt.in))
		})
	}
	assert.Equal(t, "sent [redacted] back", Redact("sent s3cr3t back", "s3cr3t"))
}

func TestRedactStatusKeepsTheCode(t *testing.T) {
	err := RedactStatus(status.Error(codes.Unauthenticated, "token eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln rejected"))
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Equal(t, "token [redacted] rejected", status.Convert(err).Message())
	assert.NoError(t, RedactStatus(nil))
}

func TestURLLeavesOutWhatMayBeSecret(t *testing.T) {
	for raw, want := range map[string]string{
		"https://central.example.com/zitadel/ping/e2e-path-secret-0123456789/instances": "https://central.example.com/zitadel/ping/[redacted]/instances",
		"https://user:pass@central:8443/api/ping?token=x#f":                             "https://central:8443/api/ping",
		"https://zitadel.com/api/ping/resource_counts":                                  "https://zitadel.com/api/ping/resource_counts",
		"http://127.0.0.1:4320/zitadel/ping/0123456789abcdef0123456789abcdef/":          "http://127.0.0.1:4320/zitadel/ping/[redacted]/",
		"http://[::1]:4320": "http://[::1]:4320",
		"http://%zz":        "[an unparsable URL]",
	} {
		if got := URL(raw); got != want {
			t.Errorf("URL(%q) = %q; want %q", raw, got, want)
		}
	}
}
