// Package configcheck holds the small checks the components' configurations
// share, so that each is written, and words its message, once.
package configcheck

import (
	"fmt"
	"net/url"
	"strings"
)

// List checks the entries of a list under key: none may be blank, each must
// pass check (which says what is wrong with an entry, or ""; nil accepts
// all), and none may be listed twice. what names an entry in messages.
func List(key, what string, values []string, check func(string) string) []error {
	var errs []error
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s[%d]: empty %s", key, i, what))
			continue
		}
		if check != nil {
			if p := check(v); p != "" {
				errs = append(errs, fmt.Errorf("%s[%d]: %q %s", key, i, v, p))
				continue
			}
		}
		if seen[v] {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is listed twice", key, i, v))
		}
		seen[v] = true
	}
	return errs
}

// IsHTTPURL reports whether raw is an absolute http or https URL with a host.
func IsHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
