// Package schedule turns the exporter from one report per batch into one
// report per system at scheduled times: the schedule keys (Config, read once
// by Validate), the snapshot of the newest counts that batches update and a
// storage extension keeps across restarts, and Exporter, which wraps the
// exporter's exporterhelper and reaches the exporter itself only through
// Reporter.
//
// The exporter imports it; it imports the report mapping, the metric
// contract and the drain, never a component package.
package schedule
