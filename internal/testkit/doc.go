// Package testkit holds the helpers the tests of more than one component
// package share: reading a component's own counters, shutting down within a
// limit, a host with extensions, reading a metadata.yaml's switches.
//
// Only tests import it; it imports nothing of this module.
package testkit
