package storedform

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A length that runs past the end is damage, never a slice beyond it: the
// bytes below are a length of 2 with one byte after it.
func TestALengthPastTheEndIsDamage(t *testing.T) {
	d := NewDecoder([]byte{2, 'a'}, "value")
	assert.Empty(t, d.String())
	assert.EqualError(t, d.Err(), "damaged value: 2 bytes are cut off")
}

func TestFinishRefusesBytesAfterTheEnd(t *testing.T) {
	d := NewDecoder([]byte{1, 'a', 7}, "value")
	assert.Equal(t, "a", d.String())
	assert.EqualError(t, d.Finish(), "damaged value: 1 bytes after the end")
}
