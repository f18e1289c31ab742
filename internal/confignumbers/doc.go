// Package confignumbers checks a component's raw configuration before it is
// decoded: a fraction at an integer key (the collector decodes 1.5 as 1), a
// number without a unit at a duration key (60 is 60ns) and a secret that is
// present but empty (an unset ${env:VAR}, which would switch its protection
// off). The keys come from the config types themselves (RawKeysOf), the
// collector's own blocks included, so a key added later is covered too.
//
// Each component's config.go imports it; it imports nothing of this module.
package confignumbers
