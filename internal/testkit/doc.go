// Package testkit holds the helpers the tests of more than one component
// package share: reading a component's own counters, shutting down within a
// limit, a host with extensions, reading a metadata.yaml's switches,
// fuzzing a configuration, a batch of the metric contract, and holding a
// README's key tables to a component's default configuration.
//
// Only tests import it; it imports the metric contract and the source
// model, never a component package.
package testkit
