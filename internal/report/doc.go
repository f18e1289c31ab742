// Package report maps the metric contract to ZITADEL's TelemetryService
// reports: one report per system (ReportBaseInformation, then the rows in
// ReportResourceCounts pages), the rows withheld by send_resources, the
// reasons a row is left out, and the detection of a report that reaches the
// exporter in pieces.
//
// The exporter, its schedule and its snapshot import it; it imports the
// metric contract, the field shapes, id hashing, the source model and the
// generated report messages, never a component package.
package report
