// Package audittrail turns ZITADEL's events into OpenTelemetry log records:
// ZITADEL's audit trail in a logs pipeline.
//
// One event is one record. The record holds the event's identity, type,
// time, owner and creator; of the payload, which holds e-mail addresses,
// names, IP addresses and password hashes, it holds only the fields an
// operator named for the event's type, and those only. A record's
// log.record.uid is derived from the event's identity, so a record read
// again after a restart carries the same uid and a backend can drop it.
//
// The delivery loop reads one page of an instance's events, hands its
// records to the next consumer, and only once that consumer accepted them
// moves and stores the instance's read position.
package audittrail
