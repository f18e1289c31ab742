// Package drain cuts short, at shutdown, work that waits on a peer: it lets
// the work in progress finish for a drain period, then cancels it and counts
// what it cancelled, so that shutdown can say once what it gave up.
//
// The zitadel receiver, the zitadeltelemetry receiver and the exporter
// import it; it imports nothing of this module.
package drain
