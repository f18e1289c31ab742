package fieldshape

import (
	"errors"
	"fmt"
)

// A path secret is the last segment of the telemetry receiver's path and of
// the exporter's endpoint; long enough not to be guessed, short enough for
// any proxy's URL limits.
const (
	minPathSecretBytes = 16
	maxPathSecretBytes = 256
)

// CheckPathSecret keeps the secret one URL path segment that needs no
// escaping and is long enough not to be guessed. The value is never printed.
func CheckPathSecret(s string) error {
	if s == "" {
		return nil
	}
	if len(s) < minPathSecretBytes || len(s) > maxPathSecretBytes {
		return fmt.Errorf("has %d characters; use %d to %d, e.g. `openssl rand -hex 24`", len(s), minPathSecretBytes, maxPathSecretBytes)
	}
	for _, r := range s {
		if !isUnreservedURLChar(r) {
			return errors.New("has a character that is not a letter, digit, '-', '_', '.' or '~'; it must be one URL path segment as it is")
		}
	}
	return nil
}

func isUnreservedURLChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '~'
}
