package storedform

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testFormat = Format{What: "value", Current: "test.value.v2", Previous: "test.value.v1"}

func sealed(body string) []byte { return testFormat.Seal(append(testFormat.Start(len(body)), body...)) }

func TestSealedValueOpens(t *testing.T) {
	// The bytes on disk, written out apart from the code: the format's name,
	// the body, and the CRC-32C (Castagnoli) of both, big-endian: 0xDB490644,
	// computed by a bitwise CRC-32C whose check value for "123456789" is
	// 0xE3069283.
	onDisk := []byte("test.value.v2the body\xdb\x49\x06\x44")
	assert.Equal(t, onDisk, sealed("the body"))
	body, previous, err := testFormat.Open(onDisk)
	require.NoError(t, err)
	assert.False(t, previous)
	assert.Equal(t, "the body", string(body))
}

// Every flipped bit and every cut is refused: none reads as other numbers.
func TestEveryFlippedBitAndCutIsRefused(t *testing.T) {
	data := sealed("\x05\x81\x01counter")
	for i := range data {
		for bit := range 8 {
			damaged := append([]byte(nil), data...)
			damaged[i] ^= 1 << bit
			_, _, err := testFormat.Open(damaged)
			assert.Error(t, err, "byte %d bit %d", i, bit)
		}
	}
	for n := range len(data) {
		_, _, err := testFormat.Open(data[:n])
		assert.Error(t, err, "cut at %d", n)
	}
	_, _, err := testFormat.Open(data[:len(data)-1])
	assert.ErrorIs(t, err, ErrChecksum)
	_, _, err = testFormat.Open(nil)
	assert.ErrorIs(t, err, ErrEmpty)
}

func TestThePreviousVersionIsRead(t *testing.T) {
	old := []byte("test.value.v1\x05\x81\x01counter")
	body, previous, err := testFormat.Open(old)
	require.NoError(t, err)
	assert.True(t, previous)
	assert.Equal(t, "\x05\x81\x01counter", string(body))
}

// A format this version does not read is named, and nothing else of it.
func TestAnUnknownFormatIsNamed(t *testing.T) {
	_, _, err := testFormat.Open([]byte("test.value.v9\x03jane.doe@example.com"))
	var unknown *UnknownFormatError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "test.value.v9", unknown.Found)
	assert.NotContains(t, err.Error(), "jane")
}
