package storedform

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Decoder reads a stored value; after the first error every read returns
// zero and Err names the damage.
type Decoder struct {
	buf  []byte
	err  error
	what string
}

// NewDecoder reads buf; what names the value in errors ("snapshot").
func NewDecoder(buf []byte, what string) *Decoder { return &Decoder{buf: buf, what: what} }

// Err is the first damage found, or nil.
func (d *Decoder) Err() error { return d.err }

// Fail records damage; the rest of the value is not read.
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("damaged "+d.what+": "+format, args...)
	}
	d.buf = nil
}

// Finish refuses bytes after the end and returns Err.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.buf) > 0 {
		d.Fail("%d bytes after the end", len(d.buf))
	}
	return d.err
}

func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.Fail("a number is cut off")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.Fail("a number is cut off")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Below reads a number that must be less than limit.
func (d *Decoder) Below(limit uint64) uint64 {
	v := d.Uvarint()
	if v >= limit {
		d.Fail("%d is out of range", v)
		return 0
	}
	return v
}

// Count reads a number of entries; each takes at least one byte, so a count
// beyond what is left is damage, never an allocation.
func (d *Decoder) Count() int { return int(d.Below(uint64(len(d.buf)) + 1)) }

// AppendBytes appends b length-prefixed, as Decoder.Bytes and
// Decoder.String read it.
func AppendBytes[T ~string | ~[]byte](buf []byte, b T) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// Bytes reads a length-prefixed byte string, sharing the buffer.
func (d *Decoder) Bytes() []byte {
	n := d.Uvarint()
	if n > uint64(len(d.buf)) { // checked after the length itself is read
		d.Fail("%d bytes are cut off", n)
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *Decoder) String() string { return string(d.Bytes()) }

func (d *Decoder) Byte() byte {
	if len(d.buf) == 0 {
		d.Fail("a byte is cut off")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

// Bool reads a flag written as 0 or 1.
func (d *Decoder) Bool() bool {
	b := d.Byte()
	if b > 1 {
		d.Fail("a flag of %d", b)
	}
	return b == 1
}

// Uint64 reads a fixed little-endian 64-bit word (a hash).
func (d *Decoder) Uint64() uint64 {
	if len(d.buf) < 8 {
		d.Fail("a word is cut off")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.buf)
	d.buf = d.buf[8:]
	return v
}

// Time reads nanoseconds since the Unix epoch; 0 is the zero time.
func (d *Decoder) Time() time.Time {
	ns := d.Varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
