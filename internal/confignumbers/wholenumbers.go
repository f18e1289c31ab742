package confignumbers

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
)

var (
	durationType    = reflect.TypeFor[time.Duration]()
	optionalPkgPath = reflect.TypeFor[configoptional.Optional[int]]().PkgPath()
)

// IntegerKeys lists the paths ("a::b") of t's integer fields, as
// mapstructure names them. Durations are left out: a number there is
// nanoseconds, which the components' minimums catch.
func IntegerKeys(t reflect.Type) []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if t != durationType && prefix != "" {
				keys = append(keys, strings.TrimSuffix(prefix, "::"))
			}
		case reflect.Struct:
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
