package testkit

import "testing"

func TestKeyReference(t *testing.T) {
	keys := []string{"http", "key", "endpoint", "bulk_size", "api"}
	for msg, want := range map[string]bool{
		"endpoint: must be an http(s) URL":                        true,
		"'bulk_size' expected type 'int', got unconvertible type": true,
		`"api" has invalid keys: token`:                           true,
		"'' has invalid keys: foo, endpoint":                      true,
		"grpc::endpoint: has a path":                              true,
		"must be an http(s) URL":                                  false,
		"the configuration has invalid keys":                      false,
		"the api source needs a token":                            false,
		"keys must not repeat":                                    false,
	} {
		if got := keyReference(keys).MatchString(msg); got != want {
			t.Errorf("keyReference matches %q: %v, want %v", msg, got, want)
		}
	}
}
