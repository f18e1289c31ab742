package testkit

import (
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// configKeys lists every mapstructure key of a config type, nested ones as
// their last segment, which is what an error message names.
func configKeys(t reflect.Type, into map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if name != "" && name != "-" {
			into[name] = true
		}
		configKeys(f.Type, into)
	}
}

// fuzzValues are the kinds of value an operator's YAML decodes to.
var fuzzValues = []any{
	"", "x", "user", "5", "1.5", "-1", "http", "grpc", "connect", "database", "api", "127.0.0.1:4317/api/ping",
	"https://zitadel.com/api/ping", "postgres://u:p@h:99999/db", "host=x sslmode=bogus", "ops@example.com",
	"\xff", strings.Repeat("a", 300), 0, 1, -1, 5, 1.5, 10000, 1 << 40, math.MaxInt64, math.Inf(1), true, false,
	[]any{"user", "usres"},
	[]any{},
	map[string]any{},
	map[string]any{"enabled": false},
	nil,
}

// freshValue copies maps and lists, so that no two keys share one: YAML
// never decodes to a map that contains itself.
func freshValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = freshValue(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = freshValue(e)
		}
		return l
	}
	return v
}

// fuzzConfig builds a configuration map from the fuzzer's bytes: each pair
// of bytes picks a key path and a value.
func fuzzConfig(data []byte, keys []string) map[string]any {
	root := map[string]any{}
	for i := 0; i+2 < len(data); i += 3 {
		path := keys[int(data[i])%len(keys)]
		if data[i+2]%4 == 0 { // sometimes nested under another key
			path = keys[int(data[i+2])%len(keys)] + "::" + path
		}
		m := root
		segs := strings.Split(path, "::")
		for _, seg := range segs[:len(segs)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[seg] = next
			}
			m = next
		}
		m[segs[len(segs)-1]] = freshValue(fuzzValues[int(data[i+1])%len(fuzzValues)])
	}
	return root
}

// keyReference matches a message that refers to one of keys the way the
// collector's messages do: "key: reason" (or "key[2]: reason" for a list's
// entry), 'key' or "key" quoted, a path
// "a::key", or a list after "invalid keys: ". A key that only occurs inside
// prose ("http(s) URL", "invalid keys") does not count.
func keyReference(keys []string) *regexp.Regexp {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = regexp.QuoteMeta(k)
	}
	k := "(?:" + strings.Join(quoted, "|") + ")"
	return regexp.MustCompile(`(^|[^\w.])` + k + `(\[\d+\])?(:|'|")|(::|'|")` + k + `\b|invalid keys: (\w+, )*` + k + `\b`)
}

// FuzzConfigs feeds arbitrary YAML-shaped maps through the collector's own
// decoding and validation of each component whose default configuration
// create makes: nothing may panic, and every refusal names a key.
func FuzzConfigs(f *testing.F, creators ...func() component.Config) {
	f.Add([]byte{0, 1, 1})
	f.Add([]byte("bulk_size protocol endpoint resources collection_interval dsn"))
	f.Add([]byte{3, 9, 1, 7, 4, 2, 200, 30, 4, 11, 12, 13})
	type factory struct{ create func() component.Config }
	factories := make([]factory, len(creators))
	for i, c := range creators {
		factories[i] = factory{c}
	}
	var keySets [][]string
	var references []*regexp.Regexp
	for _, fac := range factories {
		set := map[string]bool{}
		configKeys(reflect.TypeOf(fac.create()), set)
		var keys []string
		for k := range set {
			keys = append(keys, k)
		}
		keySets = append(keySets, keys)
		references = append(references, keyReference(keys))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, fac := range factories {
			if len(data) == 0 {
				return
			}
			keys := keySets[i]
			raw := fuzzConfig(data, keys)
			cfg := fac.create()
			err := confmap.NewFromStringMap(raw).Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if err == nil {
				continue
			}
			if msg := err.Error(); !references[i].MatchString(msg) {
				t.Errorf("a refusal that names no key: %q for %v", msg, raw)
			}
		}
	})
}
