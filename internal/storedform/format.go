package storedform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// checksumBytes is the size of the CRC-32C that ends every sealed value.
const checksumBytes = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Format names one kind of stored value and its versions. A value starts
// with its version's prefix; the current version ends with a CRC-32C of
// everything before it, so that a flipped bit, a cut or a value written by
// something else is refused instead of read as other numbers. The previous
// version, written before values carried a checksum, is still read, so that
// a collector upgraded over its storage keeps its state: it is written
// again in the current version.
type Format struct {
	// What names the value in messages: "activity state".
	What string
	// Current is the prefix written, e.g. "zitadel.activity.v3".
	Current string
	// Previous is the prefix of the version before, read without a
	// checksum; empty when there is none.
	Previous string
}

// Start returns a buffer that begins a value of the current version.
func (f Format) Start(capacity int) []byte {
	return append(make([]byte, 0, len(f.Current)+capacity+checksumBytes), f.Current...)
}

// Seal ends a value begun by Start with its checksum.
func (f Format) Seal(buf []byte) []byte {
	return binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

// ErrEmpty is a stored value of no bytes: a store that lost it.
var ErrEmpty = errors.New("the stored value is empty")

// ErrChecksum is a value whose checksum does not match its bytes.
var ErrChecksum = errors.New("the checksum does not match: the value was damaged in storage")

// UnknownFormatError is a stored value of a format this version does not read.
type UnknownFormatError struct {
	What  string
	Found string // the value's prefix, as far as it looks like a format name
}

func (e *UnknownFormatError) Error() string {
	if e.Found == "" {
		return "the stored value is not a " + e.What + " of any format this version reads"
	}
	return fmt.Sprintf("the stored value is a %s of format %q, which this version does not read", e.What, e.Found)
}

// Open returns the body of a stored value (what follows the prefix, without
// the checksum) and whether it was of the previous version, or an error that
// says why it cannot be read.
func (f Format) Open(data []byte) (body []byte, previous bool, err error) {
	switch {
	case len(data) == 0:
		return nil, false, fmt.Errorf("%s: %w", f.What, ErrEmpty)
	case strings.HasPrefix(string(data), f.Current):
		if len(data) < len(f.Current)+checksumBytes {
			return nil, false, fmt.Errorf("damaged %s: the checksum is cut off", f.What)
		}
		end := len(data) - checksumBytes
		if crc32.Checksum(data[:end], castagnoli) != binary.BigEndian.Uint32(data[end:]) {
			return nil, false, fmt.Errorf("%s: %w", f.What, ErrChecksum)
		}
		return data[len(f.Current):end], false, nil
	case f.Previous != "" && strings.HasPrefix(string(data), f.Previous):
		return data[len(f.Previous):], true, nil
	}
	return nil, false, &UnknownFormatError{What: f.What, Found: formatName(data)}
}

// formatName returns the start of data as far as it is made of what format
// names are made of (at most 64 bytes), so that a message never repeats
// what else a value holds.
func formatName(data []byte) string {
	n := 0
	for n < len(data) && n < 64 {
		c := data[n]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' {
			break
		}
		n++
	}
	return string(data[:n])
}
