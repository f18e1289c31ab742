// Package storedform reads the compact binary forms the collector keeps in a
// storage extension (the exporter's snapshot, the receiver's activity state):
// varints, length-prefixed strings, flags and fixed 64-bit words, each read
// checked against what is left, so that a damaged value is refused whole
// rather than half read.
//
// Internal packages that persist state import it; it imports nothing of this
// module.
package storedform
