package confignumbers

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
)

type inner struct {
	Size  int           `mapstructure:"size"`
	Every time.Duration `mapstructure:"every"`
}

type shaped struct {
	Count   int                            `mapstructure:"count"`
	Name    string                         `mapstructure:"name"`
	Timeout time.Duration                  `mapstructure:"timeout"`
	Queue   configoptional.Optional[inner] `mapstructure:"queue"`
	Nested  *inner                         `mapstructure:"nested"`
	Skipped int                            `mapstructure:"-"`
	inner   `mapstructure:",squash"`
}

// Every integer key is found: nested, behind a pointer, in an optional block
// and squashed; a duration is not an integer key.
func TestIntegerKeysComeFromTheType(t *testing.T) {
	keys := RawKeysOf(reflect.TypeFor[shaped]()).WholeNumbers()
	assert.ElementsMatch(t, []string{"count", "queue::size", "nested::size", "size"}, keys)
}

func TestCheckWholeNumbersNamesTheKey(t *testing.T) {
	conf := confmap.NewFromStringMap(map[string]any{"count": 1.5, "queue": map[string]any{"size": 2.0}, "size": 3})
	err := CheckWholeNumbers(conf, []string{"count", "queue::size", "size"})
	assert.EqualError(t, err, "count: 1.5 is not a whole number")
}
