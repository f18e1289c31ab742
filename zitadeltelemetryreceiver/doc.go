// Package zitadeltelemetryreceiver is the `zitadeltelemetry` receiver: it
// serves ZITADEL's TelemetryService (ZITADEL's own service-ping wire,
// Connect and gRPC), checks each call against the shapes and limits the
// exporter sends, issues and verifies self-signed report ids, and emits
// the reports as the metric contract (zitadel.resource.count and
// zitadel.instance.info). Its type, stability and own metrics come from
// internal/metadata, generated from metadata.yaml.
//
// It imports the module's internal packages, never the root package.
package zitadeltelemetryreceiver
