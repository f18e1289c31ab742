// Package contract is the metric contract between the receivers and the
// exporter: the names of zitadel.resource.count and its attributes, the
// Builder that writes it (one resource per instance, one data point per
// parent, resource and table), the metrics and resource attribute switches
// in mdatagen's shape, and the mapping of parent types to ZITADEL's report.
//
// The zitadel receiver, the zitadeltelemetry receiver and the exporter (and
// the report mapping and snapshot behind it) import it; it imports only the
// source model and the generated report messages.
package contract
