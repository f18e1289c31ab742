// Package fieldshape holds the shapes and limits of the values ZITADEL's
// TelemetryService carries (ids, resource and table names, domains,
// versions, report ids), the page size those limits allow, and Problems, the
// one collector of "the first few reasons a value was refused".
//
// The exporter holds what it sends to these shapes, the zitadeltelemetry
// receiver what it takes and the zitadel receiver's sources what ZITADEL
// answers, so that what one collector refuses to send another does not take
// and a broken ZITADEL cannot put other values into labels. Any package of
// this module may import it; it imports nothing of this module.
package fieldshape
