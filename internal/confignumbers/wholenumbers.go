package confignumbers

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
)

var (
	durationType    = reflect.TypeFor[time.Duration]()
	secretType      = reflect.TypeFor[configopaque.String]()
	headersType     = reflect.TypeFor[configopaque.MapList]()
	optionalPkgPath = reflect.TypeFor[configoptional.Optional[int]]().PkgPath()
)

// RawKeys are the paths ("a::b") of a config type's keys that are checked
// on the raw configuration before decoding. The collector decodes 1.5 into
// an integer as 1 and 60 into a duration as 60ns without a word, and an
// unset ${env:VAR} into an empty secret that switches the secret off; the
// keys come from the config type itself, the collector's own blocks
// included, so a key added later is covered too.
type RawKeys struct {
	wholeNumbers, durations, secrets []string
}

// RawKeysOf lists the integer, duration and secret keys of the config type t.
func RawKeysOf(t reflect.Type) RawKeys {
	return RawKeys{
		wholeNumbers: integerKeys(t),
		durations:    keysOf(t, func(t reflect.Type) bool { return t == durationType }),
		secrets:      keysOf(t, func(t reflect.Type) bool { return t == secretType || t == headersType }),
	}
}

// Check refuses a fraction at an integer key, a duration below a
// millisecond and a secret that is present but empty.
func (k RawKeys) Check(conf *confmap.Conf) error {
	return errors.Join(CheckWholeNumbers(conf, k.wholeNumbers), checkDurations(conf, k.durations), checkSecrets(conf, k.secrets))
}

// integerKeys lists the paths of t's integer fields; durations have checks
// of their own.
func integerKeys(t reflect.Type) []string {
	return keysOf(t, func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return t != durationType
		}
		return false
	})
}

// keysOf lists the paths ("a::b") of t's fields whose type is, as
// mapstructure names them.
func keysOf(t reflect.Type, is func(reflect.Type) bool) []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if prefix != "" && is(t) {
			keys = append(keys, strings.TrimSuffix(prefix, "::"))
			return
		}
		if t.Kind() == reflect.Struct {
			if t.PkgPath() == optionalPkgPath && strings.HasPrefix(t.Name(), "Optional[") {
				value, _ := t.FieldByName("value")
				walk(value.Type, prefix)
				return
			}
			for i := range t.NumField() {
				f := t.Field(i)
				name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
				switch {
				case opts == "squash":
					walk(f.Type, prefix)
				case name != "" && name != "-":
					walk(f.Type, prefix+name+"::")
				}
			}
		}
	}
	walk(t, "")
	return keys
}

// CheckWholeNumbers refuses a fractional number at any of the keys.
func CheckWholeNumbers(conf *confmap.Conf, keys []string) error {
	var errs []error
	for _, key := range keys {
		if v, ok := conf.Get(key).(float64); ok && v != math.Trunc(v) {
			errs = append(errs, fmt.Errorf("%s: %v is not a whole number", key, v))
		}
	}
	return errors.Join(errs...)
}

// checkDurations refuses a duration below a millisecond at any of the keys:
// a number without a unit is nanoseconds, so `timeout: 60` would be 60ns.
// Zero keeps meaning what each key says it means (often: none).
func checkDurations(conf *confmap.Conf, keys []string) error {
	var errs []error
	for _, key := range keys {
		switch v := conf.Get(key).(type) {
		case int, int64, uint64, float64:
			if n := fmt.Sprint(v); n != "0" {
				errs = append(errs, fmt.Errorf("%s: %s is %s nanoseconds, a number without a unit; write the unit, e.g. %ss", key, n, n, n))
			}
		case string:
			if d, err := time.ParseDuration(v); err == nil && d != 0 && d.Abs() < time.Millisecond {
				errs = append(errs, fmt.Errorf("%s: %s is below a millisecond; write the unit meant, e.g. 60s", key, v))
			}
		}
	}
	return errors.Join(errs...)
}

// checkSecrets refuses a secret key that is present but empty, which an
// unset ${env:VAR} yields: each of them would switch its protection off, or
// send an empty credential, without a word.
func checkSecrets(conf *confmap.Conf, keys []string) error {
	var errs []error
	empty := func(key string) {
		errs = append(errs, fmt.Errorf("%s: is set but empty (an unset environment variable?); give it a value or remove the key", key))
	}
	for _, key := range keys {
		if !conf.IsSet(key) {
			continue
		}
		switch v := conf.Get(key).(type) {
		case nil:
			empty(key)
		case string:
			if v == "" {
				empty(key)
			}
		case map[string]any: // headers: {name: value}
			for name, value := range v {
				if value == nil || value == "" {
					empty(key + "::" + name)
				}
			}
		case []any: // headers: [{name: …, value: …}]
			for i, item := range v {
				if pair, ok := item.(map[string]any); ok && (pair["value"] == nil || pair["value"] == "") {
					empty(fmt.Sprintf("%s[%d] (%v)", key, i, pair["name"]))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// WholeNumbers lists the integer keys.
func (k RawKeys) WholeNumbers() []string { return k.wholeNumbers }
