// Package storedform reads the compact binary forms the collector keeps in a
// storage extension (the exporter's snapshot, the receiver's activity state):
// varints, length-prefixed strings, flags and fixed 64-bit words, each read
// checked against what is left, so that a damaged value is refused whole
// rather than half read.
//
// Every value starts with its Format's version and ends with a CRC-32C
// (Format.Seal, Format.Open). A change of an encoding takes a new Current
// version; the old Current becomes Previous, and its decoder stays, so that
// a collector upgraded over its storage reads what the version before wrote
// and writes it again in the new form. Anything older, or of another
// format, is refused with an error that names its version; the caller logs
// what is dropped. Each format keeps its previous version's bytes under
// testdata, read by a test.
//
// Internal packages that persist state import it; it imports nothing of this
// module.
package storedform
