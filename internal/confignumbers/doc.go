// Package confignumbers refuses a fractional number where a component's
// configuration has an integer. The collector decodes 1.5 into an integer as
// 1 without a word, so every integer key of a component, the collector's own
// blocks included (sending_queue, http, grpc), is checked on the raw
// configuration before decoding. The keys come from the config types
// themselves (IntegerKeys), so a key added later is covered too.
//
// Each component's config.go imports it; it imports nothing of this module.
package confignumbers
