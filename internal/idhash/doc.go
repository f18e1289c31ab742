// Package idhash replaces ZITADEL's system, instance and organization ids
// with keyed pseudonyms (id_hash_key): the exporter before a report leaves
// it, the zitadeltelemetry receiver before a call's counts enter the
// pipeline.
//
// Both components import it; it imports only the generated report messages.
package idhash
