package zitadelevent

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s as a JSON string.
func AppendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s) // a string always marshals
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// errPayload says a payload is not the flat JSON object a reader builds.
var errPayload = errors.New("event payload: not a JSON object of named fields")

// EachField calls fn with each top-level key of a payload and its raw JSON
// value, without decoding the values. It reads the objects both readers
// build; anything else is an error.
func EachField(payload []byte, fn func(key string, value []byte)) error {
	var f Fields
	f.Reset(payload)
	for f.Next() {
		fn(string(f.Key()), f.Value())
	}
	return f.Err()
}

// Fields steps through the top-level fields of a payload without
// allocating: Reset, then Next until it is false, then Err.
type Fields struct {
	s          scanner
	key, value []byte
	started    bool
	err        error
}

// Reset starts on payload; an empty payload has no fields.
func (f *Fields) Reset(payload []byte) {
	*f = Fields{s: scanner{b: payload}}
	if len(payload) == 0 {
		f.started, f.err = true, errDone
	}
}

// errDone ends a Fields without an error.
var errDone = errors.New("done")

// Next moves to the next field.
func (f *Fields) Next() bool {
	if f.err != nil {
		return false
	}
	s := &f.s
	if !f.started {
		f.started = true
		if !s.byte('{') {
			f.err = errPayload
			return false
		}
		if s.byte('}') {
			f.finish()
			return false
		}
	} else {
		if s.byte('}') {
			f.finish()
			return false
		}
		if !s.byte(',') {
			f.err = errPayload
			return false
		}
	}
	s.space()
	start := s.i
	if !s.skipString() {
		f.err = errPayload
		return false
	}
	keyEnd := s.i - 1 // the closing quote
	if !s.byte(':') {
		f.err = errPayload
		return false
	}
	f.key = s.b[start+1 : keyEnd]
	s.space()
	start = s.i
	if !s.skipValue(0) {
		f.err = errPayload
		return false
	}
	f.value = s.b[start:s.i]
	return true
}

func (f *Fields) finish() {
	if err := f.s.end(); err != nil {
		f.err = err
		return
	}
	f.err = errDone
}

// Key is the current field's key as JSON has it, escapes not decoded.
func (f *Fields) Key() []byte { return f.key }

// Value is the current field's raw JSON value.
func (f *Fields) Value() []byte { return f.value }

// Err is the damage found, nil at a clean end.
func (f *Fields) Err() error {
	if f.err == errDone {
		return nil
	}
	return f.err
}

// String decodes a raw JSON string value; anything else is "".
func String(value []byte) string {
	if len(value) < 2 || value[0] != '"' {
		return ""
	}
	inner := value[1 : len(value)-1]
	for _, c := range inner {
		if c == '\\' {
			var out string
			if json.Unmarshal(value, &out) != nil {
				return ""
			}
			return out
		}
	}
	return string(inner)
}

// AppendInts appends the whole numbers of a raw JSON array to dst; other
// elements are left out.
func AppendInts(dst []int, value []byte) []int {
	s := scanner{b: value}
	if !s.byte('[') || s.byte(']') {
		return dst
	}
	for {
		s.space()
		start := s.i
		if !s.skipValue(0) {
			return dst
		}
		if n, err := strconv.Atoi(string(value[start:s.i])); err == nil {
			dst = append(dst, n)
		}
		if !s.byte(',') {
			return dst
		}
	}
}

// maxDepth bounds the nesting skipValue follows.
const maxDepth = 32

type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

// byte consumes c after white space.
func (s *scanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return errPayload
	}
	return nil
}

func (s *scanner) skipString() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	return false
}

func (s *scanner) skipValue(depth int) bool {
	if depth > maxDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		return s.skipString()
	case '{', '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		if s.byte(closing) {
			return true
		}
		for {
			s.space()
			if c == '{' {
				if !s.skipString() || !s.byte(':') {
					return false
				}
				s.space()
			}
			if !s.skipValue(depth + 1) {
				return false
			}
			if s.byte(closing) {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	default:
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' && s.b[s.i] != ' ' {
			s.i++
		}
		return s.i > start
	}
}
