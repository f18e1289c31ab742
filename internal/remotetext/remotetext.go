// Package remotetext makes what a remote endpoint says fit for a log line.
package remotetext

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"google.golang.org/grpc/status"
)

// MaxLen bounds what an answer's own words add to a log line.
const MaxLen = 200

var (
	// A JWT, such as the signed assertion a token endpoint may echo back: its
	// JSON header always encodes to "eyJ", then three base64url segments.
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?`)
	// "Bearer <token>", "Basic <credentials>" and "assertion=<value>"-style pairs, in a form body,
	// JSON or prose.
	bearerLike = regexp.MustCompile(`(?i)\b(bearer|basic)\s+\S+`)
	secretPair = regexp.MustCompile(`(?i)\b(assertion|access_token|id_token|refresh_token|client_assertion|token|client_secret|password)("?\s*[=:]\s*"?)[^\s&",;]+`)
	// Any other long opaque run, a personal access token for one.
	opaqueRun = regexp.MustCompile(`[A-Za-z0-9_\-+/=.~]{40,}`)
)

// Redact makes text an endpoint sent back fit for a log line. An
// endpoint may echo the request, so whatever looks like a token, an assertion
// or a credential is replaced, and so is each value in sent, wherever it
// appears. Only printable characters are kept, on one line, at most
// MaxLen of them.
func Redact(text string, sent ...string) string {
	for _, v := range sent {
		if v != "" {
			text = strings.ReplaceAll(text, v, "[redacted]")
		}
	}
	text = jwtLike.ReplaceAllString(text, "[redacted]")
	text = bearerLike.ReplaceAllString(text, "$1 [redacted]")
	text = secretPair.ReplaceAllString(text, "$1$2[redacted]")
	text = opaqueRun.ReplaceAllString(text, "[redacted]")
	text = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, text)
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > MaxLen {
		text = strings.TrimSpace(string(r[:MaxLen])) + "..."
	}
	return text
}

// RedactStatus applies Redact to the message of a gRPC status, keeping its
// code and details. Other errors are returned as they are.
func RedactStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	p := st.Proto()
	p.Message = Redact(p.Message)
	return status.FromProto(p).Err()
}

// secretSegment is a URL path segment that may be a secret: as long as the
// shortest path secret a receiver takes, made of the characters one may have.
var secretSegment = regexp.MustCompile(`^[A-Za-z0-9_\-.~]{16,}$`)

// URL makes a URL this process calls fit for a log line: the user info, the
// query and fragment are left out, and so is every path segment that may be
// a secret (a receiver's path secret, which travels in the path).
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[an unparsable URL]"
	}
	segments := strings.Split(u.EscapedPath(), "/")
	for i, s := range segments {
		if secretSegment.MatchString(s) {
			segments[i] = "[redacted]"
		}
	}
	shown := url.URL{Scheme: u.Scheme, Host: u.Host}
	return shown.String() + strings.Join(segments, "/")
}
